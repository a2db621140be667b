"""The clinical reviews' findings stay fixed: each test reads the built PDFs (what a person holds) and
names the finding it guards (content/reviews/0.1-findings.yaml, content/reviews/0.2-second-read.yaml).

Expectations come from the content where they can (outcome figures, the resolver's sections, the
shared screening statements); words are matched after the PDF text is normalised (NFKC, hyphenated
line breaks re-joined, whitespace collapsed). The first test checks the findings tables themselves:
every finding has a status, and every fixed one names a guard that exists.
"""

from __future__ import annotations

import ast
import functools
import re
from collections.abc import Iterator
from pathlib import Path

import yaml

from leaflets.check import RULES
from leaflets.content import Project, load_project
from leaflets.select import describe_difference, describe_per100, placeholders, select
from pdfread import normalise, text

ROOT = Path(__file__).resolve().parent.parent
FINDINGS = ("content/reviews/0.1-findings.yaml", "content/reviews/0.2-second-read.yaml")
STATUSES = {"fixed", "open"}
#: The findings of clinical-review-0.1.md (shared/reviews), by id: the table must account for each.
REVIEW_0_1 = {
    *(f"C{n}" for n in range(1, 4)),
    *(f"M{n}" for n in range(1, 11)),
    *(f"m{n}" for n in range(1, 9)),
    *(f"P{n}" for n in range(1, 7)),
}
#: R16-R31: the third read, and the approved-copy layout; R32 split from R30.
REVIEW_0_2 = {f"R{n}" for n in range(1, 33)}
ESK, KET = "esketamine-nasal-spray", "ketamine-infusion"
#: The topics the reviews read: a finding about ketamine or esketamine is checked on these, by id; a
#: topic added later is held to the findings that are true of any treatment.
KETAMINES = (ESK, KET)
READERS = ("patient", "caregiver")


# ------------------------------------------------------------------------------------------ helpers
@functools.cache
def _project(root: Path) -> Project:
    return load_project(root)


@functools.cache
def _words(path: Path) -> str:
    """The PDF's body text, normalised (pdfread.text), cached: several tests read the same file."""
    return text(path)


def _docs(report, root: Path, *, document=None, audiences=("patient",), topic=None, topics=None) -> Iterator:
    """Yield (doc, selection, region id) for the standard-print documents that match: of `topic`, or of
    any of `topics` (a finding about the ketamine topics names them), or of every topic."""
    project = _project(root)
    for doc in report.documents:
        spec = doc.spec
        if spec.large_print or spec.audience not in audiences:
            continue
        if (document and spec.document != document) or (topic and spec.topic != topic):
            continue
        if topics is not None and spec.topic not in topics:
            continue
        clinic = project.clinics[spec.clinic]
        yield doc, select(project, spec, clinic), clinic.region


def _outcome(root: Path, oid: str):
    return next(o for o in _project(root).outcomes if o.id == oid)


def _item(sel, sid: str):
    """Return the item with id `sid` the document prints, or None."""
    return next((i for i in sel.items if i.id == sid), None)


def _printed(item, words: str) -> bool:
    return normalise(item.text) in words


# ----------------------------------------------------------------------- the findings tables
def _guards(entry: dict) -> list[str]:
    guard = entry.get("guard") or []
    items = guard if isinstance(guard, list) else str(guard).split(";")
    return [g.strip() for g in items if g.strip()]


def _test_names(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in tree.body if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)}


def _guard_problem(guard: str) -> str | None:
    """Say what is wrong with one guard, or None when it names a test function or a check rule that exists."""
    rule = re.fullmatch(r"leaflets check rule ([a-z-]+)", guard)
    if rule:
        return None if rule.group(1) in RULES else f"no check rule '{rule.group(1)}' (rules: {', '.join(RULES)})"
    node = re.fullmatch(r"(tests/[\w/]+\.py)::(test_\w+)", guard)
    if not node:
        return "expected 'tests/<file>.py::test_<name>' or 'leaflets check rule <rule>'"
    path = ROOT / node.group(1)
    if not path.is_file():
        return f"no file {node.group(1)}"
    if node.group(2) not in _test_names(path):
        return f"no function {node.group(2)} in {node.group(1)}"
    return None


def test_every_fixed_finding_names_a_guard_that_exists():
    for name, expected in zip(FINDINGS, (REVIEW_0_1, REVIEW_0_2), strict=True):
        entries = yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))["findings"]
        ids = [e["id"] for e in entries]
        assert len(ids) == len(set(ids)), (name, "duplicate ids")
        assert set(ids) == expected, (name, sorted(set(ids) ^ expected))
        for entry in entries:
            where = f"{name} {entry['id']}"
            assert entry.get("status") in STATUSES, (where, entry.get("status"))
            assert str(entry.get("what") or "").strip(), (where, "says nothing of what was done or why it is open")
            guards = _guards(entry)
            if entry["status"] == "fixed":
                assert guards, (where, "fixed, but names no test or check rule that would catch its return")
            for guard in guards:
                assert _guard_problem(guard) is None, (where, guard, _guard_problem(guard))


def test_a_guard_that_names_nothing_real_is_caught():
    assert _guard_problem("tests/test_findings.py::test_every_fixed_finding_names_a_guard_that_exists") is None
    assert _guard_problem("leaflets check rule plain") is None
    assert _guard_problem("tests/test_findings.py::test_no_such_test")
    assert _guard_problem("tests/test_nowhere.py::test_x")
    assert _guard_problem("leaflets check rule nonsense")
    assert _guard_problem("tests/test_findings.py")  # a file is not a test


# ------------------------------------------------------------------------------- critical
def test_consent_record_boxes_leave_room_to_write(default_build, root):
    """C1: 'What matters to the patient' and 'Questions asked' were about 4 lines: each box is at least
    8 lines of body text (12 pt) deep, or runs to the foot of its page."""
    from pdfread import text_objects

    project = _project(root)
    checked = 0
    for doc, _sel, region in _docs(default_build, root, document="consent"):
        headings = {normalise(project.string(k, "patient", region)) for k in ("matters", "questions-asked")}
        for page in text_objects(doc.files["pdf"].path):
            for obj in page:
                if normalise(obj.text) in headings:  # the next words down the page (not the running footer)
                    below = [o.top for o in page if o.top >= obj.bottom and not o.artifact and o.text.strip()]
                    if below:
                        assert min(below) - obj.bottom >= 8 * 12, (doc.spec.name, obj.text, min(below) - obj.bottom)
                    checked += 1
    assert checked >= 8


def test_esketamine_leaflet_shows_the_mixed_trials_and_the_absolute_difference(default_build, root):
    """C2: only the positive trial was shown, with no absolute difference, as if approved 'with or without'."""
    project = _project(root)
    transform = [o for o in project.outcomes if ESK in o.topics and o.id.startswith("esk-response-transform")]
    assert len(transform) == 3
    for doc, sel, region in _docs(default_build, root, document="leaflet", audiences=READERS, topic=ESK):
        words = _words(doc.files["pdf"].path)
        shown = [o for o in transform if o.key]
        assert shown, (doc.spec.name, "no 4-week trial in the leaflet's fact box")
        for outcome in shown:  # the absolute difference, and that similar trials found less
            assert describe_difference(outcome, "patient") in words, (doc.spec.name, outcome.id)
            sure = project.string(f"certainty-{outcome.certainty}", doc.spec.audience, region)
            assert outcome.certainty == "mixed-trials" and normalise(sure) in words, (doc.spec.name, outcome.id)
        benefit = " ".join(i.text for i in sel.section("benefits"))
        assert re.search(r"other two|two other", benefit), (doc.spec.name, "the other trials are not mentioned")
        assert all(_printed(i, words) for i in sel.section("benefits")), doc.spec.name
        assert re.search(r"new antidepressant (pill|tablet)", words), (doc.spec.name, "add-on design not said")
    for doc, _sel, _region in _docs(default_build, root, document="leaflet", audiences=("clinician",), topic=ESK):
        words = _words(doc.files["pdf"].path)
        for outcome in transform:  # every trial's response, both arms, for the clinician
            for arm in (outcome.treatment, outcome.comparison):
                assert describe_per100(arm.per100, "clinician") in words, (doc.spec.name, outcome.id)


def test_ketamine_benefit_shows_where_ect_did_better(default_build, root):
    """C2: ELEKT-D's non-inferiority result beside ECT read as 'ketamine beats ECT'; KetECT was left out."""
    ketect, elektd = _outcome(root, "ket-remission-ketect"), _outcome(root, "ket-response-elekt-d")
    assert ketect.comparison.per100 > ketect.treatment.per100  # ECT did better: the reason this must print
    for doc, _sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topic=KET):
        words = _words(doc.files["pdf"].path)
        for outcome in (ketect, elektd):
            for arm in (outcome.treatment, outcome.comparison):
                assert describe_per100(arm.per100, "patient") in words, (doc.spec.name, outcome.id)
        assert re.search(r"not worse than ECT", words), doc.spec.name
        assert re.search(r"ECT worked better", words), doc.spec.name


def test_ect_is_shown_with_its_benefit_beside_its_memory_risk(default_build, root):
    """C2, R15: the options described ECT only by its memory risk."""
    benefit = describe_per100(_outcome(root, "ket-remission-ketect").comparison.per100, "patient")
    harm = describe_per100(_outcome(root, "ket-memory-loss").comparison.per100, "patient")
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topics=KETAMINES):
        ect = [i for i in sel.section("options") if "ECT" in i.text]
        assert ect, doc.spec.name
        assert benefit in ect[0].text and harm.lower() in ect[0].text.lower(), (doc.spec.name, ect[0].text)
        assert _printed(ect[0], _words(doc.files["pdf"].path)), doc.spec.name


def test_uk_esketamine_documents_name_scotland_and_the_older_adults_dose(default_build, root):
    """C3, R5: UK facts: licensed with an SSRI or SNRI, NICE not recommending it, the SMC accepting it,
    a lower starting dose at 65 and over; no fixed 2-hour stay in the UK leaflet."""
    uk = list(_docs(default_build, root, document="leaflet", audiences=READERS, topic=ESK))
    uk = [(doc, sel) for doc, sel, region in uk if region == "UK"]
    assert uk
    for doc, _sel in uk:
        words = _words(doc.files["pdf"].path)
        for phrase in ("SSRI or SNRI", "NICE", "Scotland", "65 or older, you start on a lower dose"):
            assert phrase in words, (doc.spec.name, phrase)
        assert "at least 2 hours" not in words, doc.spec.name


# ---------------------------------------------------------------------------------- major
def test_esketamine_leaflet_names_fainting_and_the_opioid_link_to_slow_breathing(default_build, root):
    """M1: 'fainting' or 'passing out' never appeared; the opioid and benzodiazepine link to slow
    breathing was only in the consent sheet."""
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topics=KETAMINES):
        words = _words(doc.files["pdf"].path)
        breathing = [i for i in sel.section("risks-rare") if "breathing" in i.text]
        assert breathing and "opioid" in breathing[0].text and _printed(breathing[0], words), doc.spec.name
        if doc.spec.topic == ESK:
            day = " ".join(i.text for i in sel.section("risks-day"))
            assert "faint" in day and "pass out" in day, doc.spec.name
            assert all(_printed(i, words) for i in sel.section("risks-day")), doc.spec.name


#: M2: each statement of the shared screening list (content/statements/consent.yaml, section
#: screening, family nmda-antagonists) and the words the take-home leaflet must use for it. A new
#: screening item fails the first assertion until it is given its leaflet words here.
SCREENING_IN_LEAFLET = {
    "screen-aneurysm": ("aneurysm", "arteriovenous malformation"),
    "screen-brain-bleed": ("bleeding in the brain",),
    "screen-allergy": ("allergic to",),
    "screen-blood-pressure": ("high blood pressure",),
    "screen-heart": ("heart disease",),
    "screen-stroke": ("stroke", "brain injury"),
    "screen-psychosis": ("psychosis",),
    "screen-liver": ("liver problems",),
    "screen-substance-use": ("problems with drugs or alcohol",),
    "screen-pregnancy": ("pregnant", "breastfeeding"),
    "screen-medicines": ("sleeping pills", "opioids", "stimulant", "MAOI"),
}


def test_both_topics_leaflets_name_every_item_of_the_shared_screening_list(default_build, root):
    """M2: the esketamine leaflet left out psychosis, liver problems and substance use; the ketamine
    leaflet left out aneurysm, arteriovenous malformation and allergy."""
    project = _project(root)
    shared = {s.id for s in project.statements if s.section == "screening" and s.families == ["nmda-antagonists"]}
    assert shared == set(SCREENING_IN_LEAFLET), sorted(shared ^ set(SCREENING_IN_LEAFLET))
    family = set(project.families["nmda-antagonists"])  # the topics the shared list is for
    assert set(KETAMINES) <= family
    topics = set()
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topics=family):
        safety = " ".join(i.text for name in ("who-should-not", "before") for i in sel.section(name)).lower()
        words = _words(doc.files["pdf"].path).lower()
        for sid, phrases in SCREENING_IN_LEAFLET.items():
            for phrase in (sel.region.spell(p).lower() for p in phrases):  # 'sleeping tablets' in the UK
                assert phrase in safety and phrase in words, (doc.spec.name, sid, phrase)
        topics.add(doc.spec.topic)
    assert topics == family


def test_older_adults_see_the_65_plus_figures(default_build, root):
    """M3: the 65+ blood-pressure rise and the trial in older adults that did not show a benefit."""
    older = _outcome(root, "esk-bp-rise-65-plus")
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topic=ESK):
        words = _words(doc.files["pdf"].path)
        unknowns = [i for i in sel.section("unknowns") if "65 or older" in i.text]
        assert unknowns and _printed(unknowns[0], words), doc.spec.name
        for arm in (older.treatment, older.comparison):
            assert describe_per100(arm.per100, "patient") in unknowns[0].text, doc.spec.name
        assert "did not show for sure" in unknowns[0].text, doc.spec.name


def test_ketamine_documents_print_only_ketamine_side_effect_figures(default_build, root):
    """M4: IV ketamine side-effect numbers were borrowed from esketamine. Every figure a ketamine document
    gives for a side effect or risk (fact box, key points, risk sections) is an outcome of ketamine."""
    project = _project(root)
    by_id = {o.id: o for o in project.outcomes}
    risky = ("key-points", "risks-day", "risks-long", "risks-rare")
    for doc, sel, _region in _docs(default_build, root, audiences=("patient", "caregiver", "clinician"), topic=KET):
        assert sel.outcomes and all(KET in o.topics for o in sel.outcomes), doc.spec.name
        ids = {i.id for name in risky for i in sel.section(name)}
        for s in project.statements:
            if s.id in ids and s.text:
                for part in (s.text.patient, s.text.caregiver, s.text.clinician):
                    for oid in placeholders(part or ""):
                        assert KET in by_id[oid].topics, (doc.spec.name, s.id, oid)
    for doc, _sel, _region in _docs(default_build, root, document="leaflet", topic=KET):
        figure = describe_per100(_outcome(root, "ket-dissociation").treatment.per100, "patient")
        assert figure in _words(doc.files["pdf"].path), doc.spec.name


def test_what_happens_after_a_course_is_said_for_both_topics(default_build, root):
    """M5, R6: relapse after a course, the upkeep of continuing, and cost; relapse is shown under
    'After a course ends', not as a side effect."""
    project = _project(root)
    after = {ESK: "esk-relapse-sustain-1", KET: "ket-relapse-ketect"}
    for doc, sel, region in _docs(default_build, root, audiences=READERS, topics=after):
        words = _words(doc.files["pdf"].path)
        outcome = next(o for o in sel.outcomes if o.id == after[doc.spec.topic])  # in the region's spelling
        assert outcome.kind == "after", outcome.id
        assert describe_per100(outcome.treatment.per100, "patient") in words, doc.spec.name
        assert re.search(r"come back|came back", words), doc.spec.name
        if doc.spec.document == "consent":  # the full fact box: under its own heading, after the side effects
            heading = normalise(project.string("after-in-numbers", doc.spec.audience, region))
            harms = normalise(project.string("harm-in-numbers", doc.spec.audience, region))
            measure = normalise(outcome.measure.for_audience(doc.spec.audience))
            assert 0 <= words.find(harms) < words.find(heading) < words.find(measure), doc.spec.name
    for doc, _sel, _region in _docs(default_build, root, document="leaflet", topic=KET):
        assert "pay for the infusions yourself" in _words(doc.files["pdf"].path), doc.spec.name


def test_memory_risk_says_the_effect_of_treatment_is_not_known(default_build, root):
    """M6: memory risk was framed as a risk of misuse only."""
    for doc, _sel, _region in _docs(default_build, root, audiences=READERS, topics=KETAMINES):
        words = _words(doc.files["pdf"].path)
        assert re.search(r"No one knows yet whether months or years of treatment affect memory", words), doc.spec.name


def test_alternatives_name_an_antipsychotic_and_what_no_change_means(default_build, root):
    """M7: antipsychotic augmentation was only in the clinician version; nothing on 'no change'. Every
    topic's leaflet says what no change means; the ketamine topics' name an antipsychotic."""
    no_change = {s.id for s in _project(root).statements if s.no_treatment}
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS):
        words = _words(doc.files["pdf"].path)
        options = sel.section("options")
        if doc.spec.topic in KETAMINES:
            assert any("antipsychotic" in i.text for i in options), doc.spec.name
        stay = [i for i in options if i.id in no_change]
        assert stay and _printed(stay[0], words) and "not known" in stay[0].text, doc.spec.name


def test_the_ketamine_teach_back_checks_off_label_understanding(default_build, root):
    """M8: the ketamine teach-back never checked that the patient understood it is off-label."""
    checked = 0
    for doc, sel, _region in _docs(default_build, root, document="consent", topic=KET):
        words = _words(doc.files["pdf"].path)
        points = sel.section("teach-back")
        off_label = [i for i in points if re.search(r"not (FDA-approved|licensed) for depression", i.text)]
        assert off_label, (doc.spec.name, [i.id for i in sel.section("teach-back")])
        assert _printed(off_label[0], words), doc.spec.name
        checked += 1
    assert checked == 2  # the US and the UK clinic


def test_the_ketamine_leaflet_says_when_to_stop_eating_and_how_long_to_stay(default_build, root):
    """M8, R15: no fasting instruction or minimum stay for IV ketamine, on the leaflet or its checklist."""
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topic=KET):
        words = _words(doc.files["pdf"].path)
        before = " ".join(i.text for i in sel.section("before"))
        assert "stop eating and drinking" in before and "how long you must stay" in before, doc.spec.name
        food = [i for i in sel.section("checklist") if re.search(r"\bfood\b", i.text)]
        assert food and _printed(food[0], words), doc.spec.name


def test_us_esketamine_record_carries_rems_enrolment_registry_and_the_pre_dose_guide(default_build, root):
    """M9: REMS enrolment, the pregnancy registry, hepatic impairment and the 140/90 guide."""
    us = [
        (doc, sel) for doc, sel, region in _docs(default_build, root, document="consent", topic=ESK) if region == "US"
    ]
    assert us
    for doc, sel in us:
        words = _words(doc.files["pdf"].path)
        for sid in ("rems-enrolment", "pregnancy-registry", "ack-rems"):
            item = _item(sel, sid)
            assert item is not None and _printed(item, words), (doc.spec.name, sid)
        assert "1-844-405-6185" in words
    for doc, _sel, _region in _docs(default_build, root, audiences=("clinician",), topic=ESK):
        words = _words(doc.files["pdf"].path)
        assert "140/90" in words and re.search(r"[Hh]epatic impairment", words), doc.spec.name


# ------------------------------------------------------------------------------------------ minor
def test_key_points_carry_numbers_not_frequency_words(default_build, root):
    """m1: 'It often makes people feel disconnected...' with no number. A topic whose content has key
    figures (outcomes marked key) gives one in its key points; no topic says 'often makes'."""
    with_key_figures = {t for o in _project(root).outcomes if o.key for t in o.topics}
    assert set(KETAMINES) <= with_key_figures
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS):
        words = _words(doc.files["pdf"].path)
        numbered = [i for i in sel.section("key-points") if re.search(r"\b\d+ in 100\b", i.text)]
        if doc.spec.topic in with_key_figures:
            assert numbered and _printed(numbered[0], words), doc.spec.name
        key = " ".join(i.text for i in sel.section("key-points"))
        assert not re.search(r"\boften makes\b", key), doc.spec.name


def test_esketamine_record_shows_vertigo_and_vomiting(default_build, root):
    """m2: common reactions left out (vertigo, vomiting): every esketamine harm outcome is in the record's fact box."""
    for doc, sel, _region in _docs(default_build, root, document="consent", topic=ESK):
        words = _words(doc.files["pdf"].path)
        harms = [o for o in sel.outcomes if o.kind == "harm"]  # in the region's spelling
        assert {"esk-vertigo", "esk-vomiting"} <= {o.id for o in harms}, doc.spec.name
        for outcome in harms:
            assert normalise(outcome.measure.patient) in words, (doc.spec.name, outcome.id)


def test_side_effect_rows_say_when_and_how_they_were_counted(default_build, root):
    """m3, P4: 'reported on treatment days' misdescribed the label table; the BP row is a measured change;
    the side-effect introduction was one long sentence with brackets ('dummy spray')."""
    project = _project(root)
    bp = _outcome(root, "esk-bp-rise")
    assert "measured" in (bp.certainty_note.patient or "") and "measured" in bp.measure.clinician
    for outcome in project.outcomes:
        if ESK in outcome.topics and outcome.kind == "harm":
            assert "4 weeks" in outcome.timeframe.patient, (outcome.id, outcome.timeframe.patient)
    for doc, sel, _region in _docs(default_build, root, audiences=READERS, topic=ESK):
        words = _words(doc.files["pdf"].path)
        assert "reported on treatment days" not in words and "dummy" not in words, doc.spec.name
        for intro in sel.section("numbers-note"):
            assert _printed(intro, words), doc.spec.name
            assert max(len(x.split()) for x in re.split(r"(?<=\.)\s+", intro.text)) <= 12, intro.text
            assert "(" not in intro.text, intro.text


def test_clinician_documents_split_the_schedule_and_name_one_drug(default_build, root):
    """m4: 'Induction' for the whole schedule; 'Both block the NMDA receptor' in a one-drug document;
    patient row labels in clinician tables."""
    for doc, sel, _region in _docs(default_build, root, audiences=("clinician",)):
        words = _words(doc.files["pdf"].path)
        assert "Both block" not in words, doc.spec.name
        for outcome in sel.outcomes:  # the clinician's own row labels
            if outcome.measure.patient != outcome.measure.clinician and doc.spec.document == "consent":
                assert normalise(outcome.measure.clinician) in words, (doc.spec.name, outcome.id)
        if doc.spec.topic == ESK:
            assert "Induction" in words and "Maintenance" in words, doc.spec.name


def test_leaflets_say_it_has_not_been_shown_to_reduce_suicidal_thoughts(default_build, root):
    """m5: patients should hear it has not been shown to reduce suicidal thoughts or behaviour."""
    for doc, _sel, _region in _docs(default_build, root, audiences=READERS, topics=KETAMINES):
        words = _words(doc.files["pdf"].path)
        assert "not been shown to prevent suicide or to reduce suicidal thoughts" in words, doc.spec.name


def test_take_home_leaflet_carries_interactions_bp_emergency_and_nasal_timing(default_build, root):
    """m6: interaction advice, blood-pressure emergency signs and nasal-spray timing were in the consent sheet only."""
    wanted = {
        ESK: ("before-sedatives", "risk-bp-emergency", "before-nasal-esketamine", "before-food-esketamine"),
        KET: ("before-sedatives", "risk-bp-emergency"),
    }
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topics=wanted):
        words = _words(doc.files["pdf"].path)
        for sid in wanted[doc.spec.topic]:
            item = _item(sel, sid)
            assert item is not None and _printed(item, words), (doc.spec.name, sid)


def test_caregiver_copies_speak_of_the_person_cared_for(default_build, root):
    """m7, R9: 'Why could this treatment help me?' and 'will my insurance pay' in the carer's leaflet;
    teach-back (the patient's own words) in the carer's copy of the consent discussion."""
    project = _project(root)
    for doc, sel, region in _docs(default_build, root, audiences=("caregiver",)):
        words = _words(doc.files["pdf"].path)
        for item in sel.section("questions"):
            assert not re.search(r"\b(me|my)\b", item.text), (doc.spec.name, item.text)
            assert _printed(item, words), (doc.spec.name, item.id)
        if doc.spec.document == "consent":
            assert not sel.section("teach-back"), doc.spec.name
            assert normalise(project.string("teach-back", "patient", region)) not in words, doc.spec.name


# --------------------------------------------------------------------------------- plain language
def test_plain_words_list_keeps_the_words_the_review_found_unexplained(root):
    """P2, R10: REMS, certified, controlled substance, dependent (and SSRI, SNRI, NICE): the plain rule
    warns only for words on this list, so dropping one would silence it."""
    listed = {w.word for w, _place in _project(root).plain_words}
    assert {"REMS", "certified", "controlled substance", "dependent", "SSRI", "SNRI", "NICE"} <= listed
    assert {"antipsychotic", "lithium", "anesthesia", "electroconvulsive therapy"} <= listed  # R24


def test_added_medicines_and_ect_are_explained_where_a_reader_meets_them(default_build, root):
    """R24: 'antipsychotic' and 'lithium' were unexplained in the options table, and ECT was never said to
    use an electric current. Wherever a reader's document names them, the words say what they are."""
    seen = set()
    for doc, _sel, _region in _docs(default_build, root, audiences=READERS):
        words = _words(doc.files["pdf"].path)
        for word in ("lithium", "antipsychotic"):
            if re.search(rf"\b{word}\b", words):
                assert re.search(rf"\b{word} \(", words), (doc.spec.name, word)
                seen.add(word)
        if "ECT (electroconvulsive therapy)" in words:
            assert "electric current" in words, doc.spec.name
            seen.add("ECT")
    assert seen, "no reader's document names an added medicine or ECT"


def test_the_plain_words_rule_reads_the_options_table(project_copy):
    """R24 could come back unnoticed: the plain-words rule read only prose sections, not an option's text."""
    from leaflets.check import run_checks

    path = project_copy / "content" / "statements" / "review-0.1.yaml"
    body = path.read_text(encoding="utf-8")
    assert "lithium (needs regular blood tests)" in body
    path.write_text(body.replace("lithium (needs regular blood tests)", "lithium"), encoding="utf-8")
    found = [i for i in run_checks(project_copy).issues if i.rule == "plain" and "'lithium'" in i.message]
    assert found and found[0].path == "content/statements/review-0.1.yaml" and found[0].line > 0


def test_outcome_wording_is_plain(default_build, root):
    """P3: 'Symptoms fell by at least half'; 'top number up 40 or more' (say '40 points or more')."""
    for outcome in _project(root).outcomes:
        if "40" in outcome.measure.patient:
            assert "40 points" in outcome.measure.patient, outcome.id
    for doc, _sel, _region in _docs(default_build, root, audiences=READERS):
        words = _words(doc.files["pdf"].path)
        assert not re.search(r"fell by|up 40 or more", words, re.IGNORECASE), doc.spec.name


def test_teach_back_is_headed_in_plain_words_and_in_the_patients_voice(default_build, root):
    """P5: 'Teach-back' as a heading, and third-person instructions, in a patient-facing record."""
    project = _project(root)
    for doc, sel, region in _docs(default_build, root, document="consent"):
        words = _words(doc.files["pdf"].path)
        assert not re.search(r"teach[- ]back", words, re.IGNORECASE), doc.spec.name
        assert normalise(project.string("teach-back-intro", "patient", region)) in words, doc.spec.name
        items = sel.section("teach-back")
        assert items, doc.spec.name
        for item in items:
            third_person = re.search(r"\b(the patient|they|their|them)\b", item.text, re.IGNORECASE)
            assert not third_person, (doc.spec.name, item.text)
            assert _printed(item, words), (doc.spec.name, item.id)


def test_leaflets_say_depression_that_has_not_eased_can_still_get_better(default_build, root):
    """P6, R6: a line of hope, without promising numbers for every option."""
    for doc, _sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS):
        words = _words(doc.files["pdf"].path)
        assert "can still get better" in words, doc.spec.name
        assert "show how each one did" not in words, doc.spec.name


# ------------------------------------------------------------------------------ second read (0.2)
def test_the_decision_section_has_a_cost_field_and_no_stray_colon(default_build, root):
    """R3: a stray '?:' after a question; no field for the cost quoted."""
    project = _project(root)
    for doc, _sel, region in _docs(default_build, root, document="consent"):
        words = _words(doc.files["pdf"].path)
        assert "?:" not in words, doc.spec.name
        assert normalise(project.string("plan-cost", "patient", region)) in words, doc.spec.name


def test_the_no_placebo_sentence_follows_the_studies_it_names(default_build, root):
    """R4: 'That study had no placebo' stood before any study was named."""
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS, topic=KET):
        words = _words(doc.files["pdf"].path)
        benefits = sel.section("benefits")
        placebo = [n for n, i in enumerate(benefits) if "placebo" in i.text]
        studies = [n for n, i in enumerate(benefits) if "studies compared" in i.text]
        assert placebo and studies and studies[0] < placebo[0], (doc.spec.name, [i.id for i in benefits])
        assert words.find(normalise(benefits[studies[0]].text)) < words.find(normalise(benefits[placebo[0]].text))


def test_the_leaflet_fact_box_names_what_each_figure_was_compared_with(default_build, root):
    """R7: the leaflet's fact box did not name the comparison; dizziness and nausea were left out."""
    from leaflets.render import shown_outcomes

    with_key_figures = {t for o in _project(root).outcomes if o.key and o.fact_box for t in o.topics}
    assert set(KETAMINES) <= with_key_figures
    for doc, sel, _region in _docs(default_build, root, document="leaflet", audiences=READERS):
        words = _words(doc.files["pdf"].path)
        shown = shown_outcomes(sel)
        assert bool(shown) == (doc.spec.topic in with_key_figures), doc.spec.name
        for outcome in shown:
            audience = doc.spec.audience
            assert normalise(outcome.measure.for_audience(audience)) in words, (doc.spec.name, outcome.id)
            assert normalise(outcome.comparison.label.for_audience(audience)) in words, (doc.spec.name, outcome.id)
        if doc.spec.topic == ESK:
            assert {"esk-dizziness", "esk-nausea"} <= {o.id for o in shown}, doc.spec.name


def test_the_two_dissociation_figures_say_they_cannot_be_compared(default_build, root):
    """R8: esketamine's dissociation (41 in 100, reported as a side effect) and IV ketamine's (60 in 100,
    KetECT adverse events) are not comparable measures; each consent record's row says so."""
    seen = set()
    readers = ("patient", "clinician")
    for doc, sel, _region in _docs(default_build, root, document="consent", audiences=readers, topics=KETAMINES):
        words = _words(doc.files["pdf"].path)
        for outcome in (o for o in sel.outcomes if o.id in ("esk-dissociation", "ket-dissociation")):
            note = normalise(outcome.certainty_note.for_audience(doc.spec.audience))
            assert "compar" in note.lower() and note in words, (doc.spec.name, outcome.id)
            seen.add(outcome.id)
    assert seen == {"esk-dissociation", "ket-dissociation"}, seen
