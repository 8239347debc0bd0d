"""Helpers to bring jobs to closure through the real API."""

from __future__ import annotations

import io
from datetime import datetime, timedelta

from tests import media, pdfs


def appointment_start(client, headers, job_id) -> datetime:
    detail = client.get(f"/v1/jobs/{job_id}", headers=headers).get_json()
    return datetime.fromisoformat(detail["appointment"]["start"])


def make_ready(client, headers, job_id, photos: int = 0, poa: bytes | None = None) -> dict:
    """Record start and finish inside the appointment and add a POA: what closure needs."""
    start = appointment_start(client, headers, job_id) + timedelta(minutes=5)
    for action, at in (("start", start), ("finish", start + timedelta(minutes=40))):
        response = client.post(f"/v1/jobs/{job_id}/{action}", json={"at": at.isoformat()}, headers=headers)
        assert response.status_code == 200, response.get_json()
    docs = []
    uploads = [("POA", poa or pdfs.signed(), "poa.pdf")]
    uploads += [("PHOTO", media.jpeg(color=(i * 7 % 255, 40, 90)), f"p{i}.jpg") for i in range(photos)]
    for kind, data, name in uploads:
        response = client.post(f"/v1/jobs/{job_id}/documents", headers=headers, content_type="multipart/form-data",
                               data={"kind": kind, "file": (io.BytesIO(data), name)})
        assert response.status_code in (200, 201), response.get_json()
        docs.append(response.get_json())
    return {"start": start, "finish": start + timedelta(minutes=40), "documents": docs}


def ask_closure(client, headers, job_id):
    return client.post(f"/v1/jobs/{job_id}/closure", headers=headers)
