"""Synthetic corpora of raw study records, for benchmarks and scale tests.

Writes ``raw/<source_key>/<id>.yaml`` files in the raw record format of
``schemas/study.schema.json``: the three configured MSC sources spelled the way
papers spell them, varied conditions, animal models and species, a few clinical
studies, unique DOIs and PMIDs. The same ``seed`` gives byte-identical files.

With ``bad=K`` it also writes K invalid records, each of a different kind
(unknown field, wrong type, unknown species, duplicate DOI, malformed YAML, ...),
and says which field the validation report should name for each.

Records are written from plain string templates (no ``yaml.dump`` per file):
composing 100,000 papers takes about 2 s; creating the files takes what the file
system takes (about 3 s more on tmpfs, 10 s or more on a slow disk).

    python benchmarks/generate_corpus.py --out /tmp/corpus --n 100000 --seed 0 --bad 5
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import yaml

# -- what papers write -----------------------------------------------------------
# Every spelling below is known to config/vocabulary.yaml (tests/test_generate_corpus.py
# checks that each one maps to the folder it is written to).
SOURCE_SPELLINGS: dict[str, tuple[str, ...]] = {
    "bone_marrow": (
        "bone marrow", "bone marrow", "bone marrow", "Bone marrow", "BMSC", "BMSCs", "BM-MSC",
        "BM-MSCs", "BMMSCs", "hBMSC", "human bone marrow",
        "bone marrow mesenchymal stem cells", "bone marrow-derived mesenchymal stem cells",
        "human bone marrow mesenchymal stem cells", "rat bone marrow MSCs", "BM MSC-Ex",
    ),
    "adipose": (
        "adipose tissue", "adipose tissue", "adipose tissue", "Adipose tissue", "ADSC", "ADSCs",
        "ASC", "ASCs", "AD-MSC", "AD-MSCs", "ADMSCs", "hADSC", "adipose",
        "adipose-derived stem cells", "adipose-derived mesenchymal stem cells",
        "human adipose-derived mesenchymal stem cells", "ASC-Ex", "lipoaspirate",
    ),
    "umbilical_cord": (
        "umbilical cord", "umbilical cord", "umbilical cord", "Umbilical cord", "hUC-MSC",
        "hUC-MSCs", "UC-MSC", "UC-MSCs", "hUCMSC", "UCMSCs",
        "umbilical cord mesenchymal stem cells", "human umbilical cord mesenchymal stem cells",
        "umbilical cord-derived mesenchymal stem cells", "UcMSC-Ex",
    ),
}
SOURCE_WEIGHTS = (0.45, 0.25, 0.30)  # bone marrow is the most studied source

# Species as methods sections write them, by the kind of model they are used for.
RODENTS = ("Rat", "Rats", "SD rats", "Sprague-Dawley rats", "Wistar rats", "Lewis rats",
           "Mouse", "Mice", "C57BL/6 mice", "BALB/c mice", "ICR mice", "Kunming mice")
IMMUNODEFICIENT = ("Nude mice", "BALB/c nude mice", "NOD/SCID mice", "NSG mice",
                   "Athymic nude mice", "Nude rats")
LARGE = ("Rabbit", "Rabbits", "New Zealand white rabbits", "Pig", "Pigs", "Mini pigs", "Sheep",
         "Beagle dogs", "Dogs", "Rhesus monkeys", "Cynomolgus monkeys", "Goats")
METABOLIC = ("db/db mice", "Zucker diabetic fatty rats", "C57BL/6 mice", "SD rats", "Mice", "Rats")
SPECIES_POOLS: dict[str, tuple[str, ...]] = {
    "any": RODENTS * 4 + LARGE + ("Guinea pigs", "Hamsters", "Zebrafish"),
    "tumor": IMMUNODEFICIENT * 3 + ("BALB/c mice", "C57BL/6 mice", "Mice"),
    "bone": ("Rat", "SD rats", "Rabbit", "New Zealand white rabbits", "Sheep", "Mini pigs",
             "Goats", "Mice", "C57BL/6 mice", "Beagle dogs", "Wistar rats"),
    "metabolic": METABOLIC,
    "large": (*LARGE, "Rat", "Mouse"),
}

# (condition as a table shows it, animal models for it, species pool, results).
# Every model text holds a keyword of config/vocabulary.yaml model_types.
CONDITIONS: tuple[tuple[str, tuple[str, ...], str, tuple[str, ...]], ...] = (
    ("Liver disease", ("Liver injury model", "CCl4-induced liver injury model"), "any",
     ("Improves liver regeneration and recovery", "Reduces hepatocyte apoptosis")),
    ("Liver fibrosis", ("CCl4-induced liver fibrosis model", "Bile duct ligation model"), "any",
     ("Reduces collagen deposition", "Inhibits hepatic stellate cell activation")),
    ("Acute liver failure", ("D-galactosamine/LPS acute liver failure model",), "any",
     ("Improves survival", "Reduces serum ALT and AST")),
    ("Acute kidney injury",
     ("Ischemia-reperfusion kidney injury model", "Cisplatin nephrotoxicity model"), "any",
     ("Protects renal function", "Reduces tubular apoptosis")),
    ("Chronic kidney disease",
     ("5/6 nephrectomy model", "Unilateral ureteral obstruction model"), "any",
     ("Attenuates renal fibrosis",)),
    ("Myocardial infarction", ("Myocardial infarction model", "LAD ligation model"), "large",
     ("Reduces infarct size", "Improves cardiac function", "Promotes angiogenesis")),
    ("Myocardial ischemia-reperfusion injury", ("Myocardial ischemia-reperfusion model",), "large",
     ("Reduces infarct size", "Decreases cardiomyocyte apoptosis")),
    ("Heart failure", ("Transverse aortic constriction model",), "any",
     ("Improves ejection fraction",)),
    ("Stroke", ("Middle cerebral artery occlusion model", "Ischemic stroke model"), "any",
     ("Improves neurological recovery", "Promotes neurogenesis and angiogenesis")),
    ("Traumatic brain injury", ("Traumatic brain injury model", "Controlled cortical impact model"),
     "any", ("Improves cognitive function", "Reduces neuroinflammation")),
    ("Spinal cord injury", ("Spinal cord contusion model", "Spinal cord injury model"), "any",
     ("Improves locomotor recovery", "Reduces neuronal apoptosis")),
    ("Alzheimer's disease", ("APP/PS1 transgenic model", "Alzheimer's disease model"), "any",
     ("Improves cognitive function", "Reduces amyloid-beta plaques")),
    ("Parkinson's disease", ("6-OHDA Parkinson's disease model", "MPTP-induced model"), "any",
     ("Protects dopaminergic neurons",)),
    ("Multiple sclerosis", ("Experimental autoimmune encephalomyelitis model",), "any",
     ("Reduces demyelination", "Modulates T cell responses")),
    ("Peripheral nerve injury",
     ("Sciatic nerve crush model", "Sciatic nerve transection model"), "any",
     ("Promotes axonal regeneration",)),
    ("Retinal injury", ("Retinal ischemia model", "Optic nerve crush model"), "any",
     ("Protects retinal ganglion cells",)),
    ("Glaucoma", ("Ocular hypertension model",), "any", ("Protects retinal ganglion cells",)),
    ("Dry eye disease", ("Dry eye model",), "any", ("Reduces ocular surface inflammation",)),
    ("Hearing loss", ("Cisplatin ototoxicity model",), "any", ("Protects hair cells",)),
    ("Osteoarthritis", ("Osteochondral defect", "Collagenase-induced osteoarthritis model",
                        "Anterior cruciate ligament transection model"), "bone",
     ("Promotes cartilage repair", "Reduces cartilage degeneration")),
    ("Rheumatoid arthritis", ("Collagen-induced arthritis model",), "any",
     ("Reduces joint inflammation", "Modulates T cell responses")),
    ("Bone fracture", ("Femoral fracture", "Tibial fracture model"), "bone",
     ("Accelerates fracture healing", "Promotes osteogenesis and angiogenesis")),
    ("Bone defect", ("Calvarial defect", "Critical-size bone defect", "Radial bone defect"), "bone",
     ("Promotes bone regeneration",)),
    ("Osteoporosis", ("Ovariectomy osteoporosis model",), "bone", ("Prevents bone loss",)),
    ("Osteonecrosis of the femoral head", ("Steroid-induced osteonecrosis model",), "bone",
     ("Prevents bone loss", "Promotes angiogenesis")),
    ("Intervertebral disc degeneration", ("Disc degeneration model", "Annulus puncture model"),
     "bone", ("Inhibits nucleus pulposus cell apoptosis",)),
    ("Tendon injury", ("Achilles tendon injury model", "Rotator cuff tear model"), "bone",
     ("Improves tendon healing",)),
    ("Muscle injury", ("Cardiotoxin muscle injury model", "Muscle contusion model"), "any",
     ("Promotes muscle regeneration",)),
    ("Cutaneous wound healing",
     ("Wound model", "Full-thickness skin wound", "Excisional wound model"), "any",
     ("Accelerates wound closure", "Proangiogenic effect", "Reduces scar formation")),
    ("Diabetic wound", ("Diabetic wound model", "Diabetic foot ulcer wound model"), "metabolic",
     ("Accelerates wound closure", "Promotes angiogenesis")),
    ("Burn injury", ("Burn wound model", "Deep second-degree burn wound"), "any",
     ("Accelerates re-epithelialization",)),
    ("Hypertrophic scar", ("Rabbit ear scar model",), "large", ("Reduces scar formation",)),
    ("Skin aging", ("Photoaging model", "UVB-induced skin aging model"), "any",
     ("Increases collagen synthesis",)),
    ("Atopic dermatitis", ("Atopic dermatitis model",), "any", ("Reduces clinical symptoms",)),
    ("Psoriasis", ("Imiquimod-induced psoriasis model",), "any", ("Reduces epidermal thickening",)),
    ("Hair loss", ("Hair regrowth model",), "any", ("Promotes hair growth",)),
    ("Type 1 diabetes", ("Streptozotocin-induced diabetes model",), "metabolic",
     ("Improves glycemic control", "Protects beta cells")),
    ("Type 2 diabetes", ("High-fat diet diabetes model",), "metabolic",
     ("Improves insulin sensitivity",)),
    ("Diabetic nephropathy", ("Diabetic nephropathy model",), "metabolic",
     ("Attenuates renal fibrosis",)),
    ("Obesity", ("High-fat diet obesity model",), "metabolic", ("Reduces adipose inflammation",)),
    ("Acute lung injury", ("LPS-induced acute lung injury model",), "any",
     ("Reduces lung inflammation", "Improves alveolar fluid clearance")),
    ("Acute respiratory distress syndrome", ("Acute respiratory distress syndrome model",), "any",
     ("Improves survival",)),
    ("Pulmonary fibrosis", ("Bleomycin-induced pulmonary fibrosis model",), "any",
     ("Reduces lung fibrosis",)),
    ("Bronchopulmonary dysplasia", ("Hyperoxia-induced lung injury model",), "any",
     ("Improves alveolarization",)),
    ("Asthma", ("Ovalbumin-induced asthma model",), "any", ("Reduces airway inflammation",)),
    ("Pulmonary hypertension", ("Hypoxia-induced pulmonary hypertension model",), "any",
     ("Reduces pulmonary vascular remodeling",)),
    ("Sepsis", ("Cecal ligation and puncture model",), "any",
     ("Improves survival", "Reduces systemic inflammation")),
    ("Inflammatory bowel disease",
     ("DSS-induced colitis model", "TNBS-induced colitis model"), "any",
     ("Reduces colonic inflammation",)),
    ("Acute pancreatitis", ("Caerulein-induced pancreatitis model",), "any",
     ("Reduces pancreatic injury",)),
    ("Graft vs host disease", ("Graft-versus-host disease model",), "any",
     ("Reduces GvHD severity", "Modulates T cell responses")),
    ("Systemic lupus erythematosus", ("MRL/lpr lupus model",), "any", ("Reduces proteinuria",)),
    ("Erectile dysfunction", ("Cavernous nerve injury model",), "any",
     ("Restores erectile function",)),
    ("Premature ovarian failure", ("Chemotherapy-induced ovarian failure model",), "any",
     ("Restores ovarian function",)),
    ("Endometrial injury", ("Endometrial injury model",), "any", ("Promotes endometrial repair",)),
    ("Breast cancer", ("Breast cancer xenograft", "Orthotopic breast tumor model"), "tumor",
     ("Inhibits tumor growth", "Promotes tumor growth")),
    ("Glioma", ("Glioma xenograft", "Intracranial glioma model"), "tumor",
     ("Inhibits tumor growth", "Delivers anti-tumor microRNA")),
    ("Hepatocellular carcinoma", ("Hepatocellular carcinoma xenograft",), "tumor",
     ("Inhibits tumor growth", "Increases chemosensitivity")),
    ("Colorectal cancer", ("Colorectal cancer xenograft",), "tumor", ("Inhibits tumor growth",)),
    ("Lung cancer", ("Lung cancer xenograft",), "tumor", ("Promotes tumor growth",)),
    ("Prostate cancer", ("Prostate cancer xenograft",), "tumor", ("Inhibits tumor growth",)),
    ("Osteosarcoma", ("Osteosarcoma xenograft",), "tumor", ("Promotes tumor growth",)),
    ("Limb ischemia", ("Hindlimb ischemia model",), "any",
     ("Promotes angiogenesis", "Improves blood perfusion")),
    ("Periodontitis", ("Periodontal defect", "Ligature-induced periodontitis model"), "bone",
     ("Promotes periodontal regeneration",)),
)
_CONDITION_OF = {c[0]: c for c in CONDITIONS}
# Conditions where exosomes reached people (clinical records draw from these).
CLINICAL_CONDITIONS = ("Graft vs host disease", "Chronic kidney disease", "Type 1 diabetes",
                       "Stroke", "Acute respiratory distress syndrome", "Cutaneous wound healing",
                       "Diabetic wound", "Osteoarthritis", "Dry eye disease", "Hair loss",
                       "Skin aging", "Alzheimer's disease")
IN_VITRO_RESULTS = ("Promotes cell proliferation and migration", "Reduces apoptosis in vitro",
                    "Anti-inflammatory effect on macrophages", "Promotes angiogenesis in vitro",
                    "Inhibits cell proliferation")
CLINICAL_RESULTS = ("Safe and well tolerated", "Patient stable for several months after exosome "
                    "application", "Improves symptoms in treated patients",
                    "No serious adverse events")

AUTHORS = ("Zhang", "Wang", "Li", "Liu", "Chen", "Yang", "Huang", "Zhao", "Wu", "Zhou", "Xu",
           "Sun", "Ma", "Zhu", "Hu", "Guo", "He", "Lin", "Luo", "Gao", "Kim", "Lee", "Park",
           "Choi", "Jung", "Tanaka", "Suzuki", "Sato", "Smith", "Johnson", "Brown", "Garcia",
           "Martinez", "Rodriguez", "Müller", "Schmidt", "Rossi", "Bianchi", "Dubois", "Nuñez",
           "O'Brien", "Kordelas", "Damania", "Reza", "Nakamura", "Kumar", "Singh", "Ahmed",
           "Khan", "Ivanov", "Novak", "Kowalski", "Andersson", "Nielsen", "de Jong", "Van der Berg")
TITLE_TEMPLATES = (
    "Exosomes derived from {source} alleviate {condition}",
    "{source}-derived exosomes: a therapy for {condition}",
    "Extracellular vesicles from {source} in {condition}",
    "Therapeutic effect of {source} exosomes on {condition}",
)
YEARS = tuple(range(2005, 2026))
# Papers per year grow roughly exponentially over the field's history.
YEAR_CUM_WEIGHTS = tuple(itertools.accumulate(1.25 ** k for k in range(len(YEARS))))

DOI_PREFIX = "10.5555/syn."
PMID_BASE = 30_000_000


def doi_of(i: int) -> str:
    return f"{DOI_PREFIX}{i}"


def pmid_of(i: int) -> int:
    return PMID_BASE + i


def synthetic_id(i: int, year: int) -> str:
    return f"syn{i:06d}-{year}"


# -- YAML scalars, quoted once per distinct value -----------------------------------
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_quoted: dict[str, str] = {}


def q(text: str) -> str:
    """``text`` as a YAML scalar: plain where YAML reads it back unchanged, else double-quoted."""
    found = _quoted.get(text)
    if found is None:
        try:
            plain_ok = (text == text.strip() and "#" not in text
                        and yaml.load(text, Loader=_Loader) == text)
        except yaml.YAMLError:
            plain_ok = False
        found = text if plain_ok else json.dumps(text, ensure_ascii=False)
        _quoted[text] = found
    return found


# -- good records ----------------------------------------------------------------
def _citation(i: int, year: int, rng: random.Random, spelling: str, condition: str) -> list[str]:
    lines = ["citation:", f"  first_author: {q(rng.choice(AUTHORS))}", f"  year: {year}"]
    if rng.random() < 0.1:
        lines.append("  ref: null")
    if i == 0 or rng.random() < 0.7:  # record 0 always has both: bad records repeat them
        doi = doi_of(i)
        lines.append(f"  doi: https://doi.org/{doi}" if rng.random() < 0.1 else f"  doi: {doi}")
    if i == 0 or rng.random() < 0.5:
        pmid = pmid_of(i)
        lines.append(f"  pmid: '{pmid}'" if rng.random() < 0.2 else f"  pmid: {pmid}")
    if rng.random() < 0.4:
        title = rng.choice(TITLE_TEMPLATES).format(source=spelling, condition=condition.lower())
        lines.append(f"  title: {json.dumps(title, ensure_ascii=False)}")
    return lines


def _in_vivo(n_models: int, models: tuple[str, ...], pool: str, rng: random.Random) -> list[str]:
    if not n_models:
        absent = rng.choice(("in_vivo: []", "in_vivo: []", "in_vivo: null", ""))
        return [absent] if absent else []  # "" leaves the field out, as the schema allows
    species_pool = SPECIES_POOLS[pool]
    lines = ["in_vivo:"]
    for _ in range(n_models):
        lines += [f"- model: {q(rng.choice(models))}", f"  species: {q(rng.choice(species_pool))}"]
    return lines


def _record(i: int, rng: random.Random, sources: list[str], clinical: bool) -> tuple[str, str, str]:
    """One valid record: (source key, id, YAML text)."""
    source_key = rng.choices(sources, weights=SOURCE_WEIGHTS[: len(sources)])[0]
    spelling = rng.choice(SOURCE_SPELLINGS[source_key])
    year = rng.choices(YEARS, cum_weights=YEAR_CUM_WEIGHTS)[0]
    record_id = synthetic_id(i, year)
    name, models, pool, results = (
        _CONDITION_OF[rng.choice(CLINICAL_CONDITIONS)] if clinical else rng.choice(CONDITIONS))
    in_vitro = rng.random() < 0.65
    n_models = rng.choices((0, 1, 2), weights=(0.6, 0.3, 0.1) if clinical else (0.25, 0.6, 0.15))[0]
    in_vitro = in_vitro or not (n_models or clinical)  # every record has evidence of some kind

    lines = [f"id: {record_id}", f"source: {q(spelling)}"]
    # A human donor only where the spelling names no other (a contradiction is an error).
    if rng.random() < 0.15 and not spelling.lower().startswith("rat "):
        lines.append("donor_species: human")
    lines += _citation(i, year, rng, spelling, name)
    lines += [f"condition: {q(name)}", f"in_vitro: {'true' if in_vitro else 'false'}"]
    lines += _in_vivo(n_models, models, pool, rng)
    if clinical:
        patients = min(200, max(1, int(rng.lognormvariate(2.3, 1.1))))
        lines += ["clinical:", f"  patients: {patients}"]
        result = rng.choice(CLINICAL_RESULTS)
    else:
        lines.append("clinical: null")
        result = rng.choice(results if n_models else IN_VITRO_RESULTS)
    lines.append(f"results: {q(result)}")
    return source_key, record_id, "\n".join(lines) + "\n"


# -- bad records -----------------------------------------------------------------
@dataclass(frozen=True)
class BadRecord:
    """An invalid record the pipeline must report: its file, what is wrong, the field named."""

    path: Path
    kind: str
    field: str
    stage: str


# (kind, field the report names, stage that rejects it); the first five are the
# kinds the issue names, the rest follow when more than five are asked for.
BAD_KINDS: tuple[tuple[str, str, str], ...] = (
    ("unknown field", "journal", "ingest"),
    ("wrong type", "in_vitro", "ingest"),
    ("unknown species", "in_vivo[0].species", "normalize"),
    ("duplicate DOI", "citation.doi", "validate"),
    ("malformed YAML", "", "ingest"),
    ("unknown source", "source", "normalize"),
    ("missing field", "condition", "ingest"),
    ("no evidence", "in_vitro", "validate"),
    ("duplicate PMID", "citation.pmid", "validate"),
    ("malformed DOI", "citation.doi", "ingest"),
    ("id differs from file name", "id", "ingest"),
    ("source in the wrong folder", "source", "normalize"),
    ("year out of range", "citation.year", "ingest"),
    ("zero patients", "clinical.patients", "ingest"),
)

_SPELLED = {"bone_marrow": "bone marrow", "adipose": "adipose tissue",
            "umbilical_cord": "umbilical cord"}
_WRONG_FOLDER_SOURCE = {"bone_marrow": "ADSC", "adipose": "hUC-MSC", "umbilical_cord": "BMSC"}
_MODEL = "in_vivo:\n- model: CCl4-induced liver fibrosis model\n  species: SD rats"


def _bad_text(kind: str, record_id: str, year: int, folder: str, j: int) -> str:
    """A record that is valid but for one thing, the ``kind`` of :data:`BAD_KINDS`."""
    fields = {
        "id": record_id, "source": _SPELLED.get(folder, folder.replace("_", " ")),
        "first_author": "Baduser", "year": str(year), "extra_citation": "",
        "condition": "condition: Liver fibrosis", "in_vitro": "true", "in_vivo": _MODEL,
        "clinical": "clinical: null", "results": "results: Reduces collagen deposition",
        "extra": "",
    }
    fields |= {
        "unknown field": {"extra": "journal: Stem Cell Research & Therapy\n"},
        "wrong type": {"in_vitro": '"+"'},
        "unknown species": {"in_vivo": "in_vivo:\n- model: Limb regeneration model\n"
                                       "  species: Axolotls"},
        "duplicate DOI": {"extra_citation": f"  doi: https://doi.org/{doi_of(0)}\n"},
        # the quote is never closed, and the species is indented one space too few
        "malformed YAML": {"condition": 'condition: "Liver fibrosis',
                           "in_vivo": "in_vivo:\n- model: CCl4-induced model\n species: Rat"},
        "unknown source": {"source": "cord blood"},
        "missing field": {"condition": ""},
        "no evidence": {"in_vitro": "false", "in_vivo": "in_vivo: []"},
        "duplicate PMID": {"extra_citation": f"  pmid: {pmid_of(0)}\n"},
        "malformed DOI": {"extra_citation": f"  doi: doi/{j}\n"},
        "id differs from file name": {"id": f"{record_id}-x"},
        "source in the wrong folder": {"source": _WRONG_FOLDER_SOURCE.get(folder, "ADSC")},
        "year out of range": {"year": "1890"},
        "zero patients": {"clinical": "clinical:\n  patients: 0"},
    }[kind]
    text = (
        f"id: {fields['id']}\nsource: {fields['source']}\ncitation:\n"
        f"  first_author: {fields['first_author']}\n  year: {fields['year']}\n"
        f"{fields['extra_citation']}{fields['condition']}\n"
        f"in_vitro: {fields['in_vitro']}\n{fields['in_vivo']}\n{fields['clinical']}\n"
        f"{fields['results']}\n{fields['extra']}"
    )
    return text.replace("\n\n", "\n")


def inject_bad(root: Path, k: int, seed: int = 0) -> list[BadRecord]:
    """Write ``k`` invalid records under ``root/raw``, each of a different kind where possible.

    The duplicate DOI and PMID kinds repeat those of synthetic record 0, which
    :func:`generate` always writes with both; so the corpus must hold it (n >= 1).
    """
    rng = random.Random(f"bad-{seed}")
    raw = Path(root) / "raw"
    sources = list(SOURCE_SPELLINGS)
    written: list[BadRecord] = []
    for j in range(k):
        kind, field, stage = BAD_KINDS[j % len(BAD_KINDS)]
        folder = sources[j % len(sources)]
        year = rng.choice(YEARS)
        record_id = f"bad{j:04d}-{year}"
        path = raw / folder / f"{record_id}.yaml"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(_bad_text(kind, record_id, year, folder, j), encoding="utf-8")
        written.append(BadRecord(path, kind, field, stage))
    return written


# -- the corpus ------------------------------------------------------------------
def generate_corpus(
    root: Path, n: int, seed: int = 0, bad: int = 0
) -> tuple[list[Path], list[BadRecord]]:
    """Write ``n`` valid records and ``bad`` invalid ones; the paths of both."""
    if bad and n < 1:
        raise ValueError("bad records repeat the DOI of synthetic record 0: use n >= 1")
    rng = random.Random(seed)
    raw = Path(root) / "raw"
    sources = list(SOURCE_SPELLINGS)
    folders = {key: raw / key for key in sources}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    good: list[Path] = []
    clinical: set[int] = set()
    for i in range(n):
        if i % CLINICAL_BLOCK == 0:  # 3 clinical studies in every 100, anywhere in them
            clinical = set(rng.sample(range(i, i + CLINICAL_BLOCK), CLINICAL_PER_BLOCK))
        source_key, record_id, text = _record(i, rng, sources, i in clinical)
        path = folders[source_key] / f"{record_id}.yaml"
        # One plain write per file: composing 100,000 records takes about 2 s; the rest of
        # the time is the file system creating files (threads made it slower on ext4).
        with open(path, "w", encoding="utf-8") as handle:  # noqa: PTH123 - the fastest write
            handle.write(text)
        good.append(path)
    return good, inject_bad(root, bad, seed)


CLINICAL_BLOCK, CLINICAL_PER_BLOCK = 100, 3


def generate(root: Path, n: int, seed: int = 0, bad: int = 0) -> list[Path]:
    """Write a synthetic corpus under ``root/raw``: the ``n`` valid files, then the ``bad`` ones.

    The invalid files are the last ``bad`` paths; ``BAD_KINDS[j % len(BAD_KINDS)]``
    is the kind and field of the j-th (or use :func:`generate_corpus`).
    """
    good, bad_records = generate_corpus(root, n, seed, bad)
    return good + [b.path for b in bad_records]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True,
                        help="project folder; records go to OUT/raw/<source>/<id>.yaml")
    parser.add_argument("--n", type=int, default=1000, help="number of valid papers")
    parser.add_argument("--seed", type=int, default=0, help="random seed (same seed, same files)")
    parser.add_argument("--bad", type=int, default=0, help="number of invalid records to add")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    good, bad = generate_corpus(args.out, args.n, args.seed, args.bad)
    seconds = time.perf_counter() - start
    print(f"wrote {len(good)} valid and {len(bad)} invalid records under {args.out / 'raw'} "
          f"in {seconds:.2f} s (seed {args.seed})")
    for record in bad:
        print(f"invalid: {record.path}\t{record.kind}\tfield: {record.field or '(file)'}"
              f"\tstage: {record.stage}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
