"""SKM (PermenPAN-RB 14/2017): the index as the regulation computes it, its grades, the links' tokens."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from app.models import Stage, create_all
from app.security.roles import STAGE_ROLES
from app.sop.loader import load_sops
from app.sop.schema import SopFileError, parse_sop
from app.survey import ELEMENTS, AnswerError, check_answers, dossier_of, grade_of, ikm, ikm_from_means, survey_token

# Four respondents. By hand: U1 = (4+3+4+1)/4 = 3.00; every other element 13/4 = 3.25.
# Sum of NRR x 1/9 = (3.00 + 8 x 3.25) / 9 = 29 / 9 = 3.2222; IKM = 3.2222 x 25 = 80.56 -> B (Baik).
WORKED = [
    (4, 4, 4, 4, 4, 4, 4, 4, 4),
    (3, 3, 3, 3, 3, 3, 3, 3, 3),
    (4, 3, 4, 3, 4, 3, 4, 3, 4),
    (1, 3, 2, 3, 2, 3, 2, 3, 2),
]


def test_ikm_of_a_worked_example_matches_the_hand_computation():
    result = ikm(WORKED)
    assert result.respondents == 4
    assert result.nrr == (3.0,) + (3.25,) * 8
    assert result.weighted[0] == pytest.approx(3.0 / 9) and result.weighted[1] == pytest.approx(3.25 / 9)
    assert result.unit_value == pytest.approx(29 / 9)
    assert round(result.ikm, 2) == 80.56
    assert (result.grade.letter, result.grade.label) == ("B", "Baik")


def test_ikm_of_all_best_and_all_worst_answers_spans_25_to_100():
    assert ikm([(4,) * 9]).ikm == pytest.approx(100) and ikm([(4,) * 9]).grade.letter == "A"
    assert ikm([(1,) * 9]).ikm == pytest.approx(25) and ikm([(1,) * 9]).grade.letter == "D"


def test_ikm_of_no_answers_is_none():
    assert ikm([]) is None
    assert ikm_from_means(0, [None] * 9) is None


def test_ikm_from_sql_means_equals_ikm_from_the_rows():
    means = [sum(col) / len(WORKED) for col in zip(*WORKED, strict=True)]
    assert ikm_from_means(len(WORKED), means) == ikm(WORKED)


@pytest.mark.parametrize(("value", "letter", "label"), [
    (100.0, "A", "Sangat Baik"), (88.31, "A", "Sangat Baik"), (88.30, "B", "Baik"), (76.61, "B", "Baik"),
    (76.60, "C", "Kurang Baik"), (65.00, "C", "Kurang Baik"), (64.99, "D", "Tidak Baik"), (25.0, "D", "Tidak Baik"),
    (88.3099, "A", "Sangat Baik"),  # graded on the value rounded to two decimals, as the table is written
])
def test_grade_boundaries_follow_the_regulation(value, letter, label):  # noqa: ANN001
    grade = grade_of(value)
    assert (grade.letter, grade.label) == (letter, label)


def test_the_nine_elements_have_four_labels_each_in_the_regulations_order():
    assert [e.code for e in ELEMENTS] == [f"U{i}" for i in range(1, 10)]
    assert all(len(e.answers) == 4 for e in ELEMENTS)
    assert ELEMENTS[2].answers == ("Tidak cepat", "Kurang cepat", "Cepat", "Sangat cepat")
    assert ELEMENTS[3].answers == ("Sangat mahal", "Cukup mahal", "Murah", "Gratis")


def test_a_token_names_its_dossier_and_a_changed_token_names_none():
    token = survey_token("secret", 42)
    assert dossier_of("secret", token) == 42
    assert dossier_of("other secret", token) is None
    forged = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert dossier_of("secret", forged) is None
    assert dossier_of("secret", "42") is None
    assert dossier_of("secret", "") is None
    assert dossier_of("secret", "x" * 500) is None


def test_a_token_of_another_salt_is_refused():
    from itsdangerous import URLSafeSerializer

    assert dossier_of("secret", URLSafeSerializer("secret", salt="other").dumps(42)) is None
    assert dossier_of("secret", URLSafeSerializer("secret", salt="skm").dumps("42")) is None


def test_answers_must_all_be_1_to_4_and_the_comment_short():
    form = {f"u{i}": "3" for i in range(1, 10)}
    assert check_answers({**form, "comment": "  bagus  "}) == ({f"u{i}": 3 for i in range(1, 10)}, "bagus")
    with pytest.raises(AnswerError) as missing:
        check_answers({**form, "u2": "5", "u9": ""})
    assert missing.value.missing == ("U2", "U9")
    with pytest.raises(AnswerError) as long:
        check_answers({**form, "comment": "x" * 1001})
    assert long.value.comment_length == 1001
    assert check_answers({**form, "comment": "x" * 1000})[1] == "x" * 1000


# --------------------------------------------------------------------------- the SOP flag

SEED = Path(__file__).resolve().parents[2] / "seed" / "sop" / "izin_pool_kendaraan.yaml"


def _sop_with(tmp_path: Path, change) -> Path:  # noqa: ANN001
    data = yaml.safe_load(SEED.read_text())
    change(data)
    path = tmp_path / "sop.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True))
    return path


def test_the_seeded_sop_invites_to_the_survey_when_the_permit_is_handed_over():
    sop = parse_sop(SEED, STAGE_ROLES, 450)
    assert [s.code for s in sop.steps if s.invites_survey] == ["PENYERAHAN"]


def test_the_survey_flag_must_be_true_or_false(tmp_path):  # noqa: ANN001
    def change(data: dict) -> None:
        data["steps"][0]["invites_survey"] = "ya"

    with pytest.raises(SopFileError, match="invites_survey"):
        parse_sop(_sop_with(tmp_path, change), STAGE_ROLES, 450)


def test_only_one_stage_may_invite_to_the_survey(tmp_path):  # noqa: ANN001
    def change(data: dict) -> None:
        data["steps"][0]["invites_survey"] = True

    with pytest.raises(SopFileError, match="hanya satu tahapan boleh mengundang Survei"):
        parse_sop(_sop_with(tmp_path, change), STAGE_ROLES, 450)


def test_the_loader_writes_the_flag_to_the_stage():
    engine = create_engine("sqlite://")
    create_all(engine)
    with Session(engine) as session:
        load_sops(session, [parse_sop(SEED, STAGE_ROLES, 450)])
        flagged = session.scalars(select(Stage.code).where(Stage.invites_survey.is_(True))).all()
    assert flagged == ["PENYERAHAN"]
