"""Independent reference values for the dose engine, computed with mpmath.

Prints one JSON object per line: random in-range inputs (as exact decimal
text), the value at 50 significant digits, and the value rounded by the same
named rule the engine uses (half up). Used by tests/mpmath_crosscheck.rs.
"""

import json
import random
import sys
from decimal import ROUND_HALF_UP, Decimal

from mpmath import log10, mp, mpf, nstr, sqrt

mp.dps = 50

BSA = {
    "mosteller": lambda h, w: sqrt(h * w / 3600),
    "dubois": lambda h, w: mpf("0.007184") * h ** mpf("0.725") * w ** mpf("0.425"),
    "haycock": lambda h, w: mpf("0.024265") * h ** mpf("0.3964") * w ** mpf("0.5378"),
    "gehan-george": lambda h, w: mpf("0.0235") * h ** mpf("0.42246") * w ** mpf("0.51456"),
    "boyd": lambda h, w: mpf("0.0003207") * h ** mpf("0.3") * (w * 1000) ** (mpf("0.7285") - mpf("0.0188") * log10(w * 1000)),
}


def half_up(value, places):
    # Through decimal text at 40 digits, so a value a hair either side of a
    # tie in binary is read as the tie it is in decimal.
    return str(Decimal(nstr(value, 40, strip_zeros=False)).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP))


def one_dp(rng, low, high):
    return str(Decimal(rng.randint(int(low * 10), int(high * 10))) / 10)


def main(seed, count):
    rng = random.Random(seed)
    for formula, bsa in BSA.items():
        for _ in range(count):
            height, weight = one_dp(rng, 30, 250), one_dp(rng, 1, 350)
            value = bsa(mpf(height), mpf(weight))
            print(json.dumps({"kind": "bsa", "formula": formula, "height_cm": height, "weight_kg": weight,
                              "unrounded": nstr(value, 30), "rounded": half_up(value, 2)}))
    for _ in range(count):
        sex = rng.choice(["male", "female"])
        age, weight, creatinine = str(rng.randint(18, 100)), one_dp(rng, 30, 250), str(rng.randint(10, 2000))
        factor = mpf("1.23") if sex == "male" else mpf("1.04")
        value = (140 - mpf(age)) * mpf(weight) * factor / mpf(creatinine)
        print(json.dumps({"kind": "crcl", "sex": sex, "age_years": age, "weight_kg": weight,
                          "creatinine_umol_l": creatinine, "unrounded": nstr(value, 30), "rounded": half_up(value, 0)}))
    for _ in range(count):
        auc, gfr = one_dp(rng, 1, 10), str(rng.randint(1, 300))
        value = mpf(auc) * (min(mpf(gfr), mpf(125)) + 25)
        print(json.dumps({"kind": "calvert", "auc": auc, "gfr_ml_min": gfr, "unrounded": nstr(value, 30),
                          "rounded": half_up(value, 1)}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
