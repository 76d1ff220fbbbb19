"""The command line: every subcommand has --help; demo, flow and warmup run end to end."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scratchvision.cli import build_parser, main
from scratchvision.io import write_flo

COMMANDS = ["demo", "flow", "track", "eval", "classify", "track-object", "warmup", "bench", "extract-flow",
            "track-dataset", "classify-dataset"]


@pytest.mark.parametrize("command", COMMANDS)
def test_help(command, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([command, "--help"])
    assert exit_info.value.code == 0
    assert "usage: scratchvision " + command in capsys.readouterr().out


def test_every_subcommand_is_listed():
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(COMMANDS)


def test_demo_writes_outputs_and_summary(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--frames", "6", "--size", "96x64", "--objects", "4"]) == 0
    out = capsys.readouterr().out
    assert str(tmp_path) in out
    for name in ("frames.gif", "gt.txt", "gt_flow.gif", "gt_tracks.gif", "gt_timeline.png", "summary.txt",
                 "corner_tracks.gif", "sort_tracks.txt", "sort_tracks.gif"):
        assert (tmp_path / name).stat().st_size > 0, name
    summary = (tmp_path / "summary.txt").read_text()
    assert "ground-truth flow" in summary and "endpoint error" in summary
    assert "error against the exact flow" in summary and "recall" in summary


def test_flow_command(tmp_path, capsys):
    flow = np.zeros((8, 10, 2), np.float32)
    flow[..., 0] = 3
    write_flo(tmp_path / "a.flo", flow)
    write_flo(tmp_path / "gt.flo", flow + np.float32([0, 4]))
    assert main(["flow", str(tmp_path / "a.flo"), "--gt", str(tmp_path / "gt.flo"),
                 "--color", str(tmp_path / "a.png")]) == 0
    out = capsys.readouterr().out
    assert "10x8" in out and "EPE 4.0000 px" in out
    assert (tmp_path / "a.png").stat().st_size > 0


@pytest.mark.parametrize("method", ["farneback", "horn_schunck", "tvl1"])
def test_flow_command_computes_flow_between_two_images(tmp_path, capsys, method):
    import imageio.v3 as iio

    from scratchvision import calc_optical_flow_farneback, read_flo, synthetic_sequence

    seq = synthetic_sequence(n_frames=2, size=(64, 80), n_objects=2, seed=1)
    for t in (0, 1):
        iio.imwrite(tmp_path / f"f{t}.png", seq.frames[t])
    write_flo(tmp_path / "gt.flo", seq.flow[0])
    assert main(["flow", str(tmp_path / "f0.png"), str(tmp_path / "f1.png"), "--method", method,
                 "--out", str(tmp_path / "out.flo"), "--gt", str(tmp_path / "gt.flo")]) == 0
    out = capsys.readouterr().out
    assert "80x64" in out and "EPE" in out
    if method == "farneback":
        np.testing.assert_array_equal(read_flo(tmp_path / "out.flo"),
                                      calc_optical_flow_farneback(seq.frames[0], seq.frames[1], None,
                                                                  0.5, 3, 15, 3, 5, 1.2, 0))


def test_errors_are_one_line_not_tracebacks(tmp_path, capsys):
    (tmp_path / "bad.flo").write_bytes(b"xx")
    assert main(["flow", str(tmp_path / "bad.flo")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("scratchvision flow: error:") and "Traceback" not in err


def test_console_entry_point_and_module():
    out = subprocess.run([sys.executable, "-m", "scratchvision", "--version"], capture_output=True,
                         text=True, check=True)
    assert out.stdout.startswith("scratchvision ")


def test_track_command_equals_the_library(tmp_path, capsys):
    from scratchvision import Sort, read_mot, synthetic_sequence

    from conftest import write_detections_and_frames

    seq = synthetic_sequence(n_frames=8, size=(96, 128), n_objects=3, seed=2)
    dets, _, frames_dir = write_detections_and_frames(tmp_path, seq)
    assert main(["track", str(tmp_path / "det.txt"), "--out", str(tmp_path / "res.txt"),
                 "--param", "min_hits=1", "--video", str(frames_dir)]) == 0
    assert "sort: 8 frames" in capsys.readouterr().out
    result = read_mot(tmp_path / "res.txt")
    tracker = Sort(min_hits=1)
    expected = 0
    for t in range(8):
        f = dets[dets[:, 0] == t]
        expected += len(tracker.update(np.column_stack([f[:, 2], f[:, 3], f[:, 2] + f[:, 4], f[:, 3] + f[:, 5],
                                                        f[:, 6]])))
    assert len(result) == expected
    assert (tmp_path / "res.gif").stat().st_size > 0
    assert main(["track", str(tmp_path / "det.txt"), "--param", "speed=3"]) == 2
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "deepsort"]) == 2  # needs frames
    assert main(["track", str(tmp_path / "det.txt"), "--tracker", "deepsort", "--out", str(tmp_path / "ds.txt"),
                 "--param", "n_init=1", "--show", str(frames_dir)]) == 0  # the former name
    assert len(read_mot(tmp_path / "ds.txt")) > 0


def test_eval_command_prints_the_table_and_writes_csv_json(tmp_path, capsys):
    import json

    from scratchvision import evaluate_mot, synthetic_sequence, write_mot

    seq = synthetic_sequence(n_frames=10, size=(96, 128), n_objects=3, seed=2)
    gt = seq.gt[:, :7]
    hyp = gt.copy()
    hyp[:, 2] += 2.0
    hyp[hyp[:, 0] == 4, 1] += 50  # an id switch
    for name in ("A", "B"):
        (tmp_path / "gt" / name / "gt").mkdir(parents=True)
        write_mot(tmp_path / "gt" / name / "gt" / "gt.txt", gt)
    (tmp_path / "res").mkdir()
    write_mot(tmp_path / "res" / "A.txt", hyp)
    write_mot(tmp_path / "res" / "B.txt", gt)
    assert main(["eval", str(tmp_path / "gt"), str(tmp_path / "res"), "--csv", str(tmp_path / "m.csv"),
                 "--json", str(tmp_path / "m.json")]) == 0
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert lines[0].split()[:5] == ["IDF1", "IDP", "IDR", "Rcll", "Prcn"] and "HOTA" in lines[0]
    assert [ln.split()[0] for ln in lines[1:4]] == ["A", "B", "OVERALL"]
    ref = evaluate_mot(gt, hyp)
    assert f"{100 * ref['MOTA']:.1f}%" in lines[1]
    data = json.loads((tmp_path / "m.json").read_text())
    assert data["A"]["IDSW"] == ref["IDSW"] and len(data["A"]["HOTA_alpha"]["HOTA"]) == 19
    assert (tmp_path / "m.csv").read_text().splitlines()[0].startswith("name,MOTA,MOTP")
    # one file against one file
    assert main(["eval", str(tmp_path / "gt" / "A" / "gt" / "gt.txt"), str(tmp_path / "res" / "A.txt")]) == 0
    assert capsys.readouterr().out.splitlines()[1].startswith("A ")
    # a bad line is an error naming file and line, not a traceback
    (tmp_path / "res" / "bad.txt").write_text("1,1,0,0,10,10,1\n1,1,0,0,10,10,1\n")
    assert main(["eval", str(tmp_path / "gt" / "A" / "gt" / "gt.txt"), str(tmp_path / "res" / "bad.txt")]) == 2
    assert "bad.txt:2: id 1 appears twice in frame 1" in capsys.readouterr().err


def test_track_object_command(tmp_path, capsys, monkeypatch):
    from scratchvision import write_video

    monkeypatch.chdir(tmp_path)  # the default GIF goes to the working directory
    from scratchvision.data import texture

    big = (texture((200, 260), 3) * 255).astype(np.uint8)
    frames = np.stack([big[20 + 2 * t:140 + 2 * t, 10 + 3 * t:170 + 3 * t] for t in range(12)])
    write_video(tmp_path / "v.gif", frames)
    gt = np.array([[60 - 3 * t, 40 - 2 * t, 40, 30] for t in range(12)], float)
    np.savetxt(tmp_path / "gt.txt", gt, delimiter=",")
    assert main(["track-object", str(tmp_path / "v.gif"), "--bbox", "60,40,40,30", "--tracker", "mosse",
                 "--out", str(tmp_path / "b.txt"), "--gif", str(tmp_path / "t.gif"), "--gt",
                 str(tmp_path / "gt.txt")]) == 0
    out = capsys.readouterr().out
    assert "12 of 12 frames tracked" in out and "success AUC" in out
    rows = np.loadtxt(tmp_path / "b.txt", delimiter=",", skiprows=1)
    assert rows.shape == (12, 6) and np.abs(rows[:, 1:5] - gt).max() <= 1.0
    assert (tmp_path / "t.gif").stat().st_size > 0
    for tracker in ("kcf", None):  # None: the default tracker, CSRT
        chosen = ["--tracker", tracker] if tracker else []
        assert main(["track-object", str(tmp_path / "v.gif"), "--bbox", "60,40,40,30", "--out", str(tmp_path / "k.txt")]
                    + chosen) == 0
        boxes = np.loadtxt(tmp_path / "k.txt", delimiter=",", skiprows=1)
        assert np.abs(boxes[:, 1:3] - gt[:, :2]).max() <= 2.0
    assert (tmp_path / "track.gif").stat().st_size > 0  # written by default
    (tmp_path / "track.gif").unlink()
    assert main(["track-object", str(tmp_path / "v.gif"), "--bbox", "60,40,40,30", "--no-gif"]) == 0
    assert not (tmp_path / "track.gif").exists()
    assert main(["track-object", str(tmp_path / "v.gif"), "--bbox", "1,2,3"]) == 2


@pytest.fixture
def small_video(tmp_path):
    """Detections and frames of a short synthetic sequence: (det.txt, frames folder, gt array)."""
    import imageio.v3 as iio

    from scratchvision import synthetic_sequence, write_mot

    seq = synthetic_sequence(n_frames=6, size=(64, 96), n_objects=2, seed=2, color=True)
    dets = seq.gt[seq.gt[:, 6] > 0].copy()
    dets[:, 1] = -1
    write_mot(tmp_path / "det.txt", dets)
    (tmp_path / "frames").mkdir()
    for t, f in enumerate(seq.frames):
        iio.imwrite(tmp_path / "frames" / f"{t:04d}.png", f)
    return tmp_path / "det.txt", tmp_path / "frames", seq


def _mistake(capsys, argv, *fragments, code=2):
    """``argv`` fails with exit ``code`` and one line on stderr containing each fragment."""
    assert main(argv) == code
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    for fragment in fragments:
        assert fragment in err, (fragment, err)
    return err


def test_user_mistakes_get_one_line_and_a_non_zero_exit(tmp_path, capsys, small_video):
    det, frames_dir, seq = small_video
    (tmp_path / "notes.txt").write_text("not an image\n")
    write_flo(tmp_path / "a.flo", np.zeros((8, 10, 2), np.float32))
    write_flo(tmp_path / "big.flo", np.zeros((9, 10, 2), np.float32))
    _mistake(capsys, ["track", str(frames_dir)], str(frames_dir), "directory")  # a folder for a file
    _mistake(capsys, ["eval", str(det), str(frames_dir)], str(frames_dir))
    _mistake(capsys, ["flow", str(tmp_path / "a.flo"), "--color", str(tmp_path / "out")], "extension")
    _mistake(capsys, ["flow", str(tmp_path / "notes.txt"), str(tmp_path / "notes.txt")], "notes.txt", "image")
    _mistake(capsys, ["flow", str(frames_dir / "0000.png"), str(frames_dir / "0001.png"), "--gt",
                      str(tmp_path / "big.flo")], "--gt", "10x9", "96x64")  # checked before computing
    _mistake(capsys, ["demo", "--out", str(tmp_path / "d"), "--objects", "0"], "n_objects")
    _mistake(capsys, ["track", str(det), "--param", "max_age=abc"], "max_age=abc", "number")
    _mistake(capsys, ["track", str(det), "--tracker", "bytetrack", "--param", "track_thresh=1.5"], "track_thresh")
    _mistake(capsys, ["track", str(det), "--tracker", "deepsort"], "--video")
    _mistake(capsys, ["track", str(det), "--video", str(frames_dir / "0000.png")], "1 frames", "frame 6")
    (tmp_path / "bad_gt.txt").write_text("1,2,3\n")
    _mistake(capsys, ["track-object", str(frames_dir), "--bbox", "10,10,20,20", "--gt", str(tmp_path / "bad_gt.txt")],
             "line 1")
    assert not (tmp_path / "boxes.txt").exists()  # refused before tracking


def test_ctrl_c_exits_130_with_one_line(capsys, monkeypatch):
    import scratchvision.cli as cli

    def interrupted(args):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli, "_cmd_warmup", interrupted)
    _mistake(capsys, ["warmup"], "scratchvision warmup: interrupted", code=130)


def test_track_object_takes_otbs_first_line_as_written(tmp_path, capsys, small_video):
    _, frames_dir, seq = small_video
    frames, boxes = __import__("scratchvision").sot.object_track(seq, whole_first_box=True)
    x, y, w, h = boxes[0]
    for line in (f"{x}\t{y}\t{w}\t{h}", f"{x},{y},{w},{h}", f"{x} {y} {w} {h}"):
        assert main(["track-object", str(frames_dir), "--bbox", line, "--tracker", "mosse", "--no-gif",
                     "--out", str(tmp_path / "b.txt")]) == 0
    capsys.readouterr()


def test_eval_reports_and_can_skip_missing_sequences(tmp_path, capsys):
    from scratchvision import synthetic_sequence, write_mot

    gt = synthetic_sequence(n_frames=6, size=(64, 96), n_objects=2, seed=2).gt[:, :7]
    for name in ("A", "B"):
        (tmp_path / "gt" / name / "gt").mkdir(parents=True)
        write_mot(tmp_path / "gt" / name / "gt" / "gt.txt", gt)
    (tmp_path / "res").mkdir()
    write_mot(tmp_path / "res" / "A.txt", gt)
    assert main(["eval", str(tmp_path / "gt"), str(tmp_path / "res")]) == 0
    captured = capsys.readouterr()
    assert "warning:" in captured.err and "B.txt is missing" in captured.err
    assert "warnings.warn" not in captured.err and len(captured.err.strip().splitlines()) == 1  # no source line
    assert [ln.split()[0] for ln in captured.out.splitlines()[1:4]] == ["A", "B", "OVERALL"]
    assert main(["eval", str(tmp_path / "gt"), str(tmp_path / "res"), "--skip-missing"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [ln.split()[0] for ln in lines[1:3]] == ["A", "OVERALL"] and "100.0%" in lines[2]


def test_bench_help_lists_the_benchmarks(capsys):
    with pytest.raises(SystemExit):
        main(["bench", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "sot" in out and "tracking" in out and "dense_flow" in out


def test_first_run_says_it_compiles_once(tmp_path, capsys, monkeypatch):
    """A command's first run with this code says on stderr that kernels compile (and about how
    long); later runs, or any after `scratchvision warmup`, do not."""
    from scratchvision import synthetic_sequence, write_mot

    monkeypatch.setenv("NUMBA_CACHE_DIR", str(tmp_path / "marks"))  # where the marks go (Numba has read it already)
    gt = synthetic_sequence(n_frames=4, size=(64, 96), n_objects=2, seed=2).gt[:, :7]
    write_mot(tmp_path / "gt.txt", gt)
    run = ["eval", str(tmp_path / "gt.txt"), str(tmp_path / "gt.txt")]
    assert main(run) == 0
    assert "compiling kernels on first use, about" in capsys.readouterr().err
    assert main(run) == 0
    assert "compiling" not in capsys.readouterr().err
    from scratchvision.cache import mark_warm
    from scratchvision.cli import COLD_SECONDS

    mark_warm(COLD_SECONDS)  # what `scratchvision warmup` does after compiling everything
    assert main(["track", str(tmp_path / "gt.txt"), "--out", str(tmp_path / "t.txt")]) == 0
    assert "compiling" not in capsys.readouterr().err


#: Arguments a user might mistype, for the command-line fuzz test: missing and wrong files,
#: folders, numbers out of range, words where numbers go.
_BAD_ARGUMENTS = ["missing.txt", "FOLDER", "TEXT", "-1", "0", "abc", "1,2", "nan", "1e309", "--param", "x=1",
                  "--bbox", "--gt", "--out", "--video", "--tracker", "--method", "--iou", "2", ""]


@settings(deadline=None, max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(command=st.sampled_from(["track", "eval", "flow", "track-object", "classify", "demo"]),
       words=st.lists(st.sampled_from(_BAD_ARGUMENTS), min_size=1, max_size=4))
def test_fuzzed_command_lines_never_end_in_a_traceback(tmp_path, capsys, command, words):
    """Any mix of wrong files and values: a usage error from argparse (exit 2) or one line
    naming the mistake (exit 2), never an uncaught exception."""
    capsys.readouterr()  # what an earlier example printed
    (tmp_path / "FOLDER").mkdir(exist_ok=True)
    (tmp_path / "TEXT").write_text("1,2,3\nnot numbers\n")
    argv = [command] + [str(tmp_path / w) if w in ("FOLDER", "TEXT", "missing.txt") else w for w in words]
    if command == "demo":
        argv += ["--out", str(tmp_path / "demo"), "--frames", "2", "--size", "48x32"]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's usage errors
        assert exc.code == 2
        return
    err = capsys.readouterr().err
    assert code in (0, 2) and "Traceback" not in err
    if code == 2:
        assert len([ln for ln in err.splitlines() if ": error:" in ln]) == 1


def test_dataset_commands(tmp_path, capsys):
    """extract-flow and track-dataset end to end (serially); their exit status counts failures;
    a user's mistake is one line."""
    import scratchvision as sv

    from conftest import shared_path

    videos = tmp_path / "videos"
    videos.mkdir()
    for i in range(2):
        sv.write_video(videos / f"v{i}.gif", sv.synthetic_sequence(4, (32, 48), 1, seed=i, color=True).frames)
    (videos / "broken.mp4").write_bytes(b"not a video")
    args = ["extract-flow", str(videos), "--out", str(tmp_path / "flow"), "--method", "farneback",
            "--scheduler", "serial", "--new-size", "24x16"]
    assert main(args) == 1  # one video failed
    out = capsys.readouterr().out
    assert "2 done" in out and "1 failed" in out and "broken" in out
    assert len(list((tmp_path / "flow" / "v0").glob("flow_x_*.jpg"))) == 3
    assert main(args) == 1 and "2 skipped" in capsys.readouterr().out
    mot15 = shared_path("mot15")
    assert main(["track-dataset", str(mot15 / "TUD-Campus"), "--out", str(tmp_path / "trk"), "--tracker", "sort",
                 "--scheduler", "serial"]) == 0
    out = capsys.readouterr().out
    assert "TUD-Campus" in out and "OVERALL" in out and (tmp_path / "trk" / "TUD-Campus.txt").exists()
    assert main(["extract-flow", str(tmp_path / "nothing"), "--out", str(tmp_path / "f")]) == 2
    err = capsys.readouterr().err
    assert "error: videos: no video" in err and len(err.strip().splitlines()) == 1
    assert main(["classify-dataset", str(videos), "--out", str(tmp_path / "c"), "--model", "r3d_18"]) == 2
    assert "--weights is required" in capsys.readouterr().err


def test_track_with_camera_motion_compensation(tmp_path, capsys):
    import scratchvision as sv

    from conftest import write_detections_and_frames

    seq = sv.synthetic_sequence(12, (120, 160), 3, seed=2, background_speed=3.0, color=True)
    _, det, frames = write_detections_and_frames(tmp_path, seq)
    out = tmp_path / "t.txt"
    assert main(["track", str(det), "--video", str(frames), "--cmc", "sparse", "--cmc-model", "translation",
                 "--out", str(out)]) == 0
    rows = sv.read_mot(out)
    assert len(rows) and "3 ids" in capsys.readouterr().out
    assert main(["track", str(det), "--cmc", "sparse", "--out", str(out)]) == 2
    assert "--cmc needs the frames" in capsys.readouterr().err
