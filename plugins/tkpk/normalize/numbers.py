"""Indonesian numbers: `Rp 16.800,00`, `16.800`, `16800`, `1.500.000`, Excel numbers. Dot groups thousands and
comma marks decimals, unless the text is plainly English-formatted (`16,800.00`)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

_CLEAN_RE = re.compile(r"(?i)\s|rp\.?|idr")


def parse_amount(value: object) -> Decimal | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, Decimal)):
        return Decimal(value)
    if isinstance(value, float):
        return None if value != value else Decimal(str(value))
    text = _CLEAN_RE.sub("", str(value))
    if not text or text in {"-", "nan"}:
        return None
    negative = text.startswith("-") or (text.startswith("(") and text.endswith(")"))
    text = text.strip("-()")
    if "," in text and "." in text:
        if text.rfind(",") > text.rfind("."):
            text = text.replace(".", "").replace(",", ".")  # 16.800,00
        else:
            text = text.replace(",", "")  # 16,800.00
    elif "," in text:
        head, _, tail = text.rpartition(",")
        text = text.replace(",", "") if len(tail) == 3 and head.replace(",", "").isdigit() else text.replace(",", ".")
    elif text.count(".") > 1 or (text.count(".") == 1 and len(text.rpartition(".")[2]) == 3):
        text = text.replace(".", "")  # 16.800 / 1.500.000
    try:
        amount = Decimal(text)
    except InvalidOperation:
        return None
    return -amount if negative else amount
