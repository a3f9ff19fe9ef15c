"""The SKM survey on a phone (390 x 844): no sideways scrolling, every answer reachable by a tap,
the answers kept once, under the Content-Security-Policy without a complaint from the browser."""
from __future__ import annotations

import datetime as dt

import pytest

from tests.browser.test_content_security_policy import PolicyWatch

pytestmark = pytest.mark.browser


def test_an_applicant_answers_the_survey_on_a_phone(browser, live_server, live_app) -> None:  # noqa: ANN001
    from sqlalchemy import select

    from app.extensions import db
    from app.models import Dossier, Stage, StageEvent, SurveyResponse
    from app.survey import survey_token

    base, dossier_id = live_server
    with live_app.app_context():
        dossier = db.session.get(Dossier, dossier_id)
        stages = {s.code: s for s in dossier.permit_type.stages}
        db.session.add(StageEvent(dossier_id=dossier_id, from_stage_id=stages["PENYERAHAN"].id,
                                  to_stage_id=stages["PENGARSIPAN"].id, action="advance",
                                  occurred_at=dt.datetime.now(dt.UTC)))
        db.session.commit()
        url = f"{base}/survei/{survey_token(live_app.config['SECRET_KEY'], dossier_id)}"
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    try:
        watch = PolicyWatch(context)
        page = context.new_page()
        watch.attach(page)
        assert watch.open(page, url) == []
        assert page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
        for i in range(1, 10):
            label = page.locator(f"input[name=u{i}][value='4']").locator("xpath=..")
            box = label.bounding_box()
            assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390 and box["height"] >= 30, i
            label.tap()
        page.fill("textarea[name=comment]", "Pelayanan cepat")
        with page.expect_navigation():
            page.locator("#survey-form [type=submit]").tap()
        assert "Jawaban Anda telah disimpan" in page.inner_text("#survey-message-text")
    finally:
        context.close()
    with live_app.app_context():
        row = db.session.scalar(select(SurveyResponse).where(SurveyResponse.dossier_id == dossier_id))
        assert (row.u1, row.u9, row.comment) == (4, 4, "Pelayanan cepat")
        assert db.session.scalar(select(Stage.invites_survey).where(Stage.code == "PENYERAHAN")) is True
