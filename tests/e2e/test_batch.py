"""batch_ms: several frames per emit, the same audio at the receiver, frames counted one by one."""

from __future__ import annotations

from pathlib import Path

from testkit.fake_server import read_log
from tests.support import Procs, expected_tone, read_wav, start_supervisor


def test_batches_arrive_bit_for_bit(procs: Procs, run_dir: Path) -> None:
    run = start_supervisor(procs, run_dir, "--duration", "4", "--batch-ms", "100")
    ended = run.wait(timeout=60)
    rec = run.rec
    assert ended.code == 0 and "Traceback" not in ended.err, ended.err
    report = ended.report
    f = report["frames"]
    assert f["unaccounted"] == 0 and f["acked"] == f["captured"] >= 150, f
    assert report["receiver"]["frames"] == f["acked"]
    _, audio = read_wav(rec / "main.wav")
    assert audio == expected_tone(f["captured"])
    # 5 frames per emit: each ack answers for a batch, so latency spans the batch
    assert report["latency_ms"]["p50"] >= 20


def test_batches_reach_a_plain_server_in_order(procs: Procs, tmp_path: Path) -> None:
    from tests.e2e.test_flow_servers import FakeServer, finish, run_supervisor

    server = FakeServer(procs, tmp_path / "handled.log")
    server.start()
    proc = run_supervisor(procs, tmp_path, server.url, "--duration", "4", "--batch-ms", "60")
    report = finish(proc, tmp_path)
    seqs = [seq for _, seq, _, _ in read_log(tmp_path / "handled.log")]
    assert seqs == list(range(len(seqs))) and len(seqs) == report["frames"]["acked"]
