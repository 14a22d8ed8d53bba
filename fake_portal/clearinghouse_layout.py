"""Summit Exchange's page layouts (fake_portal/clearinghouse.py): element ids, classes, table columns and
their labels in layout 1 and in layout 2, the "redesign" that renames ids and classes and moves columns."""

from __future__ import annotations

# Element ids in layout 1; layout 2 (the "redesign") renames every one of them.
_IDS_V1 = {
    "login_form": "login-form",
    "username": "username",
    "password": "password",
    "sign_in": "sign-in",
    "login_error": "login-error",
    "notice": "login-notice",
    "mfa_form": "mfa-form",
    "otp": "otp-code",
    "verify": "verify-code",
    "mfa_error": "mfa-error",
    "dashboard": "dashboard",
    "search_form": "claim-search-form",
    "payer": "payer-id",
    "member": "member-id",
    "dos_from": "service-from",
    "dos_to": "service-to",
    "npi": "provider-npi",
    "pcn": "patient-control-number",
    "search": "search-claims",
    "results": "search-results",
    "alert": "search-alert",
    "detail": "claim-detail",
    "lines": "service-lines",
    "adjustments": "claim-adjustments",
    "f_pcn": "claim-pcn",
    "f_payer_claim": "claim-payer-number",
    "f_category": "claim-category",
    "f_status_code": "claim-status-code",
    "f_status_text": "claim-status-text",
    "f_effective": "claim-effective-date",
    "f_billed": "claim-billed",
    "f_allowed": "claim-allowed",
    "f_paid": "claim-paid",
    "f_patient_resp": "claim-patient-resp",
    "f_check": "claim-check",
    "f_paid_on": "claim-payment-date",
    "remittances": "remittances",
    "remit_filter": "remittance-filter",
    "remit_payer": "remittance-payer",
    "remit_table": "remittance-files",
    "enrollment": "provider-enrollment",
    "enroll_form": "enrollment-form",
    "enroll_npi": "enrollment-npi",
    "enroll_search": "find-enrollments",
    "enroll_error": "enrollment-error",
    "enroll_for": "enrollment-for-npi",
    "enroll_table": "enrollment-records",
}
IDS = {1: _IDS_V1, 2: {key: f"sx-{value}" for key, value in _IDS_V1.items()}}
CLASSES = {
    1: {
        "results_table": "results-table",
        "no_results": "no-results",
        "view": "view-claim",
        "remit_table": "era-table",
        "no_remits": "no-remittances",
        "download": "download-era",
        "enroll_table": "enrollment-table",
        "no_enrollments": "no-enrollments",
    },
    2: {
        "results_table": "sx-grid",
        "no_results": "sx-empty",
        "view": "sx-open-claim",
        "remit_table": "sx-era-grid",
        "no_remits": "sx-era-empty",
        "download": "sx-era-file",
        "enroll_table": "sx-enrollment-grid",
        "no_enrollments": "sx-enrollment-empty",
    },
}
RESULT_COLUMNS = {
    1: ("pcn", "payer_claim", "patient", "dos", "billed", "status", "action"),
    2: ("status", "patient", "dos", "pcn", "payer_claim", "billed", "action"),
}
ADJUSTMENT_COLUMNS = {
    1: ("line", "procedure", "group", "carc", "amount", "rarcs"),
    2: ("line", "procedure", "amount", "group", "carc", "rarcs"),
}
REMITTANCE_COLUMNS = {
    1: ("file_id", "payer", "paid_on", "trace", "claims", "amount", "download"),
    2: ("paid_on", "amount", "payer", "trace", "file_id", "claims", "download"),
}
REMITTANCE_LABELS = {
    "file_id": "File ID",
    "payer": "Payer",
    "paid_on": "Payment Date",
    "trace": "Trace Number",
    "claims": "Claims",
    "amount": "Amount",
    "download": "Download",
}
ENROLLMENT_COLUMNS = {
    1: ("payer_id", "payer", "status", "effective", "termination", "revalidation", "provider_id", "era", "eft"),
    2: ("payer", "status", "era", "eft", "provider_id", "payer_id", "revalidation", "effective", "termination"),
}
ENROLLMENT_LABELS = {
    "payer_id": "Payer ID",
    "payer": "Payer",
    "status": "Enrollment Status",
    "effective": "Effective Date",
    "termination": "Termination Date",
    "revalidation": "Revalidation Due",
    "provider_id": "Payer Provider ID",
    "era": "ERA (835)",
    "eft": "EFT",
}
# Summit's own words for an enrollment's status (fake_portal.programs uses the normalised ones).
ENROLLMENT_WORDING = {"in_process": "In process", "active": "Enrolled", "denied": "Denied", "terminated": "Terminated"}
REVALIDATION_WARNING_DAYS = 90
ADJUSTMENT_LABELS = {
    "line": "Line",
    "procedure": "Procedure",
    "group": "Group",
    "carc": "Reason (CARC)",
    "amount": "Amount",
    "rarcs": "Remarks (RARC)",
}
LIST_MAX_DAYS = 93
LIST_PAGE_SIZE = 50
# The claim list keeps its ids in layout 2: only its columns move, so a reader trusting positions reads wrong.
LIST_IDS = {
    "list": "claim-list",
    "list_form": "claim-list-form",
    "list_payer": "list-payer-id",
    "list_from": "list-service-from",
    "list_to": "list-service-to",
    "list_error": "claim-list-error",
    "list_table": "claim-list-table",
    "list_empty": "claim-list-empty",
}
LIST_COLUMNS = {
    1: ("pcn", "payer_claim", "payer", "dos", "billed", "status", "status_date", "paid", "check", "action"),
    2: ("pcn", "payer_claim", "payer", "dos", "billed", "paid", "status_date", "status", "check", "action"),
}
LIST_LABELS = {
    "pcn": "Patient Control #",
    "payer_claim": "Payer Claim #",
    "payer": "Payer",
    "dos": "Service Dates",
    "billed": "Billed",
    "status": "Status",
    "status_date": "Status Date",
    "paid": "Paid",
    "check": "Check/EFT #",
    "action": "Action",
}
LIST_ERRORS = {
    "dates": "Enter a valid service date range: the from date must be on or before the to date.",
    "range": f"The service date range may not exceed {LIST_MAX_DAYS} days. Narrow your search and try again.",
    "payer": "Select a payer from the list, or All payers.",
}
CATEGORY_NAMES = {
    "A2": "Acknowledgement/Acceptance into adjudication system",
    "A7": "Acknowledgement/Rejected for invalid information",
    "P1": "Pending/In process",
    "P3": "Pending/Requested information",
    "F1": "Finalized/Payment",
    "F2": "Finalized/Denial",
}
