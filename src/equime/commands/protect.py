"""`equime protect`: perturb videos (FGSM / PGD) so a recogniser cannot read the emotion, write
them losslessly and report how well it worked (accuracy before / after, transfer, re-encode)."""

from __future__ import annotations

import argparse
from typing import Any

ORDER = 80


def add_parser(sub: Any) -> None:
    p = sub.add_parser(
        "protect",
        help="privacy defence: perturb videos so emotion recognisers fail, and measure it",
    )
    p.add_argument("input", help="EquiME dataset folder, or a folder of videos (+ labels.csv)")
    p.add_argument("--model", required=True, help="checkpoint folder of the recogniser to attack")
    p.add_argument("--attack", default="pgd", choices=["fgsm", "pgd"])
    p.add_argument("--eps", default="4/255", help="L-inf budget in [0, 1] pixels (default 4/255)")
    p.add_argument("--steps", type=int, default=10, help="PGD iterations (default 10)")
    p.add_argument(
        "--step-size", help="PGD step (default 2.5 * eps / steps); FGSM always steps exactly eps"
    )
    p.add_argument("--target", help="targeted: push every video towards this class")
    p.add_argument("--out", help="output folder (default <INPUT>-protected)")
    p.add_argument(
        "--transfer",
        nargs="+",
        action="extend",
        default=[],
        metavar="CKPT",
        help="other recognisers (same classes) that score the protected videos",
    )
    p.add_argument(
        "--lossless",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="write lossless RGB H.264 (default); --no-lossless / --lossy writes H.264 CRF --crf",
    )
    p.add_argument("--lossy", dest="lossless", action="store_false", help="same as --no-lossless")
    p.add_argument("--crf", dest="lossy_crf", type=int, default=18, help="CRF of --lossy output")
    p.add_argument(
        "--reencode-crf", type=int, default=23, help="CRF of the re-encode check (default 23)"
    )
    p.add_argument(
        "--no-reencode",
        dest="reencode_crf",
        action="store_const",
        const=None,
        help="skip the H.264 re-encode robustness check",
    )
    p.add_argument(
        "--blur-sigma",
        type=float,
        default=1.0,
        metavar="SIGMA",
        help="blur defence tested in the report: Gaussian sigma in the video's pixels (default 1)",
    )
    p.add_argument(
        "--no-blur",
        dest="blur_sigma",
        action="store_const",
        const=None,
        help="skip the blur defence rows",
    )
    p.add_argument(
        "--dataset",
        default="auto",
        help="input format: auto (default: equime if metadata exists, else folder) or any "
        "`equime train --dataset` format (samm, casme2, ...)",
    )
    p.add_argument("--batch", type=int, default=8, help="videos attacked together (default 8)")
    p.add_argument("--device", default="cpu", help="cpu or cuda")
    p.add_argument(
        "--smooth",
        type=float,
        default=0.0,
        metavar="SIGMA",
        help="also attack a Gaussian-blurred view (sigma in the recogniser's input pixels, e.g. "
        "2): protection that survives lossy re-encoding better (default 0: off)",
    )
    p.add_argument(
        "--random-start",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="PGD from a random point of the eps-ball, drawn per video (default: on)",
    )
    p.add_argument(
        "--restarts",
        type=int,
        default=1,
        help="PGD runs from different random starts; each video keeps its strongest (default 1)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the PGD random starts")
    p.add_argument("--no-progress", dest="progress", action="store_false")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from equime.privacy.attacks import parse_amount
    from equime.privacy.protect import ProtectConfig, protect

    fields = {k: v for k, v in vars(args).items() if k not in ("command", "run", "verbose")}
    fields["eps"] = parse_amount(args.eps, "eps")
    if args.step_size is not None:
        fields["step_size"] = parse_amount(args.step_size, "step-size")
    result = protect(ProtectConfig(**fields))
    print(f"{result.out}: {result.report['videos']} videos protected")
    for row in result.report["summary"]:
        success = row["attack_success"]
        print(
            f"  {row['recogniser']:<32} {row['condition']:<15} accuracy {row['accuracy']:.3f} "
            f"[{row['accuracy_ci_low']:.3f}, {row['accuracy_ci_high']:.3f}]  "
            f"confidence {row['mean_confidence']:.3f}"
            + ("" if success is None else f"  success {success:.3f}")
        )
    imp = result.report["imperceptibility"]
    psnr = imp["psnr_mean_db"]
    print(
        f"  PSNR {'-' if psnr is None else f'{psnr:.2f}'} dB (worst "
        f"{imp['psnr_min_db'] or float('nan'):.2f}), SSIM {imp['ssim_mean']:.4f}; "
        f"report: {result.out / 'report.md'}"
    )
    return 0
