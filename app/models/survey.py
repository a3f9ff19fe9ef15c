"""Survei Kepuasan Masyarakat (PermenPAN-RB 14/2017): one applicant's answer per dossier.

Nine elements (u1..u9), each answered 1 to 4; the index (IKM) is computed in app.survey."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, Index, SmallInteger, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base
from app.models.dossier import StageEvent

ELEMENT_COLUMNS = ("u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9")


class SurveyResponse(Base):
    __tablename__ = "survey_response"
    __table_args__ = (
        *(CheckConstraint(f"{c} BETWEEN 1 AND 4", name=f"{c}_range") for c in ELEMENT_COLUMNS),
        # The report: a year's answers per permit type and month.
        Index("ix_survey_response_type_answered", "permit_type_id", "answered_at"),
        Index("ix_survey_response_answered", "answered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Once per dossier: two posts at once leave one row, the second hits this key.
    dossier_id: Mapped[int] = mapped_column(ForeignKey("dossier.id"), unique=True)
    permit_type_id: Mapped[int] = mapped_column(ForeignKey("permit_type.id"))
    answered_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    u1: Mapped[int] = mapped_column(SmallInteger)
    u2: Mapped[int] = mapped_column(SmallInteger)
    u3: Mapped[int] = mapped_column(SmallInteger)
    u4: Mapped[int] = mapped_column(SmallInteger)
    u5: Mapped[int] = mapped_column(SmallInteger)
    u6: Mapped[int] = mapped_column(SmallInteger)
    u7: Mapped[int] = mapped_column(SmallInteger)
    u8: Mapped[int] = mapped_column(SmallInteger)
    u9: Mapped[int] = mapped_column(SmallInteger)
    comment: Mapped[str | None] = mapped_column(Text)


# The invitations (app.survey.invite_due) look for recent moves out of the stages that invite to
# the survey: by leaving stage and time, not by walking every advance of every dossier.
Index("ix_stage_event_from_stage_occurred", StageEvent.from_stage_id, StageEvent.occurred_at)
