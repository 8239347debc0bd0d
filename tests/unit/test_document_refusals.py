"""Which SP-API refusals are about what a document holds, as read from the bare
error list setAppointmentFulfillmentData answers with, and the sandbox's scan."""

from __future__ import annotations

import zlib

from techapi.spapi.errors import SpApiUnprocessable, document_content_refusal, parse_error_body
from techapi.spapi.sandbox.rules import carries_malware
from tests import pdfs

MALWARE = ("Failed to process proof of appointment input. Reason: Document failed to meet malware check. "
           "Please review document uploaded")


def refusal(*messages: str) -> SpApiUnprocessable:
    body = [{"code": "InvalidInput", "message": m, "details": ""} for m in messages]
    return SpApiUnprocessable("setAppointmentFulfillmentData", 422, parse_error_body(body))


def test_the_malware_message_is_found_even_behind_another_error():
    assert document_content_refusal(refusal("Appointment start time is required. Please check the input again.",
                                            MALWARE)) == MALWARE


def test_other_document_refusals_are_not_about_its_content():
    assert document_content_refusal(refusal(
        "Failed to process proof of appointment input. Reason: Input document id does not exist. "
        "Please check the input")) is None
    assert document_content_refusal(refusal()) is None


def test_the_sandbox_finds_eicar_raw_or_in_a_compressed_pdf_stream_and_nothing_in_a_clean_pdf():
    assert carries_malware(pdfs.infected())
    compressed = b"%PDF-1.7\n1 0 obj\n<</Filter/FlateDecode>>\nstream\n" + zlib.compress(
        pdfs.EICAR.encode()) + b"\nendstream\nendobj\n"
    assert carries_malware(compressed)
    assert not carries_malware(pdfs.signed())
    assert not carries_malware(pdfs.EICAR.encode()[:-1])
