"""The parameter tree is the one declaration of every option: the CLI is made from it, bounds and
choices are checked in one place, and a manifest's record rebuilds the same parameters."""

import re
from dataclasses import asdict

import pytest

from napari_partial_style.cli.options import dests
from napari_partial_style.cli.parser import ALL_PARTS, build_parser
from napari_partial_style.core.errors import InputError
from napari_partial_style.core.options import from_dict, leaves
from napari_partial_style.core.params import CRFParams, JobParams, SaliencyParams, StyleParams


def subparser(name):
    parser = build_parser()
    return next(a for a in parser._actions if a.dest == "command").choices[name]


def test_every_option_of_the_tree_is_a_flag_of_run_and_demo():
    assert ALL_PARTS == tuple(dict.fromkeys(leaf.path[0] for leaf in leaves(JobParams)))
    for command in ("run", "demo"):
        assert {leaf.dest for leaf in leaves(JobParams)} <= dests(subparser(command))


def test_segment_takes_exactly_the_session_and_segmentation_options():
    tree = {leaf.dest for leaf in leaves(JobParams)}
    assert dests(subparser("segment")) & tree == {
        leaf.dest for leaf in leaves(JobParams) if leaf.path[0] in ("session", "segment")
    }


def test_flags_parse_into_the_tree_and_unset_flags_keep_its_defaults():
    from napari_partial_style.cli.jobs import job_params

    args = build_parser().parse_args(
        [
            "run",
            "c.png",
            "s.png",
            "--out",
            "o.pstyle",
            "--steps",
            "7",
            "--crf-gaussian",
            "2",
            "2",
            "--scales",
            "1",
            "1",
            "--no-score",
            "--label-values",
            "2",
            "3",
        ]
    )
    params = job_params(args)
    assert params.style.steps == 7 and params.segment.crf.gaussian == (2.0, 2.0)
    assert params.segment.saliency.scales == (1.0,) and params.score.enabled is False
    assert params.composite.label_values == (2, 3)
    untouched = JobParams()
    assert params.segment.crf.bilateral == untouched.segment.crf.bilateral
    assert params.style.style_weight == untouched.style.style_weight and params.session == untouched.session


def test_demo_defaults_give_way_to_the_users_classes():
    from napari_partial_style.cli.jobs import job_params
    from napari_partial_style.cli.run import DEMO_DEFAULTS

    args = build_parser().parse_args(["demo", "--target", "plate"])
    params = job_params(args, DEMO_DEFAULTS)
    assert params.segment.saliency.targets == ("plate",)
    assert params.segment.saliency.subtract == ("dining table", "plate", "wooden spoon")


def test_help_shows_each_options_default_and_every_option_has_help(capsys):
    for leaf in leaves(JobParams):
        assert leaf.option.help.strip(), leaf.path
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "(default: 300; 1 to 100000)" in text and "(default: 3.32e+06" in text


@pytest.mark.parametrize(
    "make, words",
    [
        (lambda: StyleParams(steps=0), "steps must be at least 1, not 0"),
        (lambda: StyleParams(init="paint"), "init 'paint' is unknown; use content or noise"),
        (lambda: StyleParams(objective="nope"), "objective 'nope' is unknown; use gatys"),
        (lambda: CRFParams(method="magic"), "crf 'magic' is unknown"),
        (lambda: CRFParams(gaussian=(3.0,)), "--crf-gaussian takes 2 values, not 1"),
        (lambda: SaliencyParams(threshold=1.5), "threshold must be at most 1, not 1.5"),
        (lambda: SaliencyParams(scales=()), "at least one saliency scale"),
    ],
)
def test_bounds_and_choices_are_checked_by_the_tree_itself(make, words):
    with pytest.raises(InputError, match=words):
        make()


def test_a_manifests_record_rebuilds_the_same_parameters():
    params = JobParams(
        style=StyleParams(steps=9, style_size=64),
        segment=from_dict(type(JobParams().segment), {"classifier": "x.pt", "crf": {"gaussian": [2, 2]}}),
    )
    record = asdict(params)  # what the manifest stores (tuples become lists in JSON)
    import json

    assert from_dict(JobParams, json.loads(json.dumps(record))) == params
    assert (
        from_dict(
            JobParams,
            {
                "unknown": 1,
                "style": {"steps": 9, "style_size": 64},
                "segment": {"classifier": "x.pt", "crf": {"gaussian": [2, 2]}},
            },
        )
        == params
    )


def test_every_flag_a_message_names_exists():
    """Error messages name flags (`--bg-alpha 2`, `--tile 512`) and napari rewrites them to its
    labels: a flag renamed in the tree but not in a message would send the user to nothing. Every
    `--flag` in the package's string literals must be a flag of some command."""
    import ast
    import re
    from pathlib import Path

    import napari_partial_style

    parser = build_parser()
    commands = next(a for a in parser._actions if a.dest == "command").choices.values()
    known = {flag for command in (parser, *commands) for action in command._actions for flag in action.option_strings}
    known |= {"--" + f[5:] for f in known if f.startswith("--no-")}  # --no-crop: --crop named alone
    named = {}
    for path in Path(napari_partial_style.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                for flag in re.findall(r"(?<![\w-])--[a-z][a-z0-9]*(?:-[a-z0-9]+)*(?![\w{-])", node.value):
                    named.setdefault(flag, path.name)
    assert len(named) > 20  # the scan reads the messages (a broken scan would find none)
    unknown = {flag: where for flag, where in named.items() if flag not in known}
    assert not unknown, f"messages name flags no command has: {unknown}"


def test_training_weight_and_device_options_come_from_their_declarations(capsys):
    """train's options are TrainParams' fields (defaults and bounds in --help, the same check as the
    library's); --device is the session's option; --vgg16/--vgg19 come from the known weight files."""
    from napari_partial_style.cli.options import params_from
    from napari_partial_style.core.io.weights import KNOWN
    from napari_partial_style.core.params import TrainParams

    train = subparser("train")
    assert {leaf.dest for leaf in leaves(TrainParams)} | {"session__device", "vgg16"} <= dests(train)
    args = build_parser().parse_args(
        ["train", "data", "--out", "m.pt", "--no-pretrained", "--scale-jitter", "0.9", "1.1", "--device", "cpu"]
    )
    assert params_from(args, TrainParams) == TrainParams(pretrained=False, scale_jitter=(0.9, 1.1))
    assert params_from(args, JobParams).session.device == "cpu"
    with pytest.raises(InputError, match="size must be at least 224, not 100"):
        params_from(build_parser().parse_args(["train", "d", "--out", "m.pt", "--size", "100"]), TrainParams)
    for command, keys in (("run", ("vgg16", "vgg19")), ("weights", ("vgg16", "vgg19")), ("train", ("vgg16",))):
        helps = {a.dest: a.help for a in subparser(command)._actions}
        assert all(KNOWN[key].purpose in helps[key] for key in keys), command
    with pytest.raises(SystemExit):
        build_parser().parse_args(["train", "--help"])
    assert "default: 448; 224 to 4096" in " ".join(capsys.readouterr().out.split())  # from the tree


@pytest.mark.parametrize(
    ("make", "words"),
    [
        (lambda: StyleParams(steps="3"), "steps must be a whole number, not str '3'"),
        (lambda: StyleParams(style_weight=True), "style_weight must be a number, not bool True"),
        (lambda: StyleParams(steps=3.5), "steps must be a whole number, not float 3.5"),
        (lambda: SaliencyParams(targets="cup"), "targets takes a tuple of str values, not str 'cup'"),
        (lambda: CRFParams(gaussian=[3.0, 3.0]), "gaussian takes a tuple of float values, not list"),
    ],
)
def test_the_api_refuses_values_of_the_wrong_type_at_its_door(make, words):
    """Scripts calling the API get the check the CLI and widgets get, not a failure deep in the run."""
    with pytest.raises(InputError, match=re.escape(words)):
        make()
    assert SaliencyParams(targets=("cup", 724)).targets == ("cup", 724)  # a class by name or index
    assert StyleParams(style_weight=10).style_weight == 10  # a whole number is a number
