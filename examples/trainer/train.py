# The reference TrainingJob trainer: real data-parallel training (PyTorch DistributedDataParallel, gloo on
# CPU) wired exactly as the controller wires workers. What a trainer must do to get live progress, resume
# and clean preemption is documented in README.md next to this file; this script is that contract, runnable.
import json
import os
import re
import signal
import socket
import sys
import time
from datetime import timedelta

import torch
import torch.distributed as dist
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

ENV = os.environ


def hyper(name, default, kind=float):
    # The controller passes spec.hyperparameters as HYPERPARAM_<UPPER_SNAKE> (learningRate → HYPERPARAM_LEARNING_RATE).
    value = ENV.get(f"HYPERPARAM_{name}")
    return default if value in (None, "") else kind(value)


RANK = int(ENV.get("RANK", "0"))
WORLD_SIZE = int(ENV.get("WORLD_SIZE", "1"))
MASTER_ADDR = ENV.get("MASTER_ADDR", "127.0.0.1")
MASTER_PORT = int(ENV.get("MASTER_PORT", "29500"))
EPOCHS = hyper("EPOCHS", 5, int)
LEARNING_RATE = hyper("LEARNING_RATE", 0.05)
BATCH_SIZE = hyper("BATCH_SIZE", 64, int)
# Synthetic data set size, and a floor on each epoch's wall time (0: none) so a demo can watch progress move.
SAMPLES = hyper("SAMPLES", 16384, int)
MIN_EPOCH_SECONDS = hyper("MIN_EPOCH_SECONDS", 0.0)
CHECKPOINT_DIR = ENV.get("CHECKPOINT_DIR")
CHECKPOINT_FREQUENCY = max(1, int(ENV.get("CHECKPOINT_FREQUENCY", "1")))
RESUME_FROM = ENV.get("RESUME_FROM_CHECKPOINT")
TERMINATION_LOG = ENV.get("TERMINATION_MESSAGE_PATH", "/dev/termination-log")
METRICS_PORT = int(ENV.get("METRICS_PORT", "8000"))

last_checkpoint = None
rendezvoused = False
# Exit code for "the collective broke because a peer went away": the controller does not count it as this
# rank's failure (the peer's own failure, if it crashed, counts; an eviction does not).
PEER_LOST_EXIT_CODE = 75
# gloo's words for a peer that went away; other gloo errors (a size mismatch, say) are bugs and exit 1.
PEER_LOST_HINTS = ("connection closed by peer", "connection reset by peer", "pair closure", "broken pipe", "timed out")


def log(event, **fields):
    print(json.dumps({"event": event, "rank": RANK, **fields}), flush=True)


def report_checkpoint(error=None):
    # The controller reads where to resume (the checkpoint line) and shows the other line, the error, as the cause.
    lines = [error[:1000]] if error else []
    if last_checkpoint is not None:
        lines.append(json.dumps({"checkpoint": last_checkpoint[0], "epoch": last_checkpoint[1]}))
    if not lines:
        return
    try:
        with open(TERMINATION_LOG, "w") as f:
            f.write("\n".join(lines) + "\n")
    except OSError as err:
        log("termination-message-failed", error=str(err))


def on_sigterm(_signum, _frame):
    # Eviction, suspend, preemption: say where to resume, then go (exit code 143, as for SIGTERM).
    log("terminated", checkpoint=last_checkpoint[0] if last_checkpoint else None)
    report_checkpoint()
    sys.stdout.flush()
    os._exit(143)


def wait_for_master():
    # MASTER_ADDR is rank 0's name under the headless Service; its record appears shortly after the pod.
    deadline = time.monotonic() + 180
    while True:
        try:
            return socket.getaddrinfo(MASTER_ADDR, MASTER_PORT, type=socket.SOCK_STREAM)[0][4][0]
        except socket.gaierror:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def data_set():
    # The same samples on every rank (fixed seed): a noisy linear boundary an MLP learns in a few epochs.
    g = torch.Generator().manual_seed(0)
    x = torch.randn(SAMPLES, 32, generator=g)
    w = torch.randn(32, generator=g)
    y = ((x @ w + 0.5 * torch.randn(SAMPLES, generator=g)) > 0).long()
    return TensorDataset(x, y)


def start_metrics():
    from prometheus_client import Gauge, start_http_server

    gauges = {
        "epoch": Gauge("training_epoch", "Epochs completed"),
        "total": Gauge("training_total_epochs", "Epochs this run trains in all"),
    }
    gauges["total"].set(EPOCHS)
    start_http_server(METRICS_PORT)
    # A gauge reads 0 from its creation: these appear only once an epoch has measured them, so 0 is never shown as a loss.
    later = {
        "loss": ("training_loss", "Mean training loss of the last epoch"),
        "accuracy": ("training_accuracy", "Training accuracy of the last epoch, 0-1"),
        "throughput": ("training_samples_per_second", "Samples per second over all ranks, last epoch"),
    }

    def set_measured(name, value):
        if name not in gauges:
            gauges[name] = Gauge(*later[name])
        gauges[name].set(value)

    return gauges, set_measured


def checkpoint_epoch(path):
    # This trainer names its checkpoints epoch-<n>.pt; anything else has no epoch to compare.
    m = re.search(r"(?:^|/)epoch-(\d+)\.pt$", path)
    return int(m[1]) if m else None


def newest_saved_checkpoint():
    # A .partial file is an interrupted write: never read.
    if not CHECKPOINT_DIR or not os.path.isdir(CHECKPOINT_DIR):
        return None
    saved = [(checkpoint_epoch(n), os.path.join(CHECKPOINT_DIR, n)) for n in os.listdir(CHECKPOINT_DIR) if checkpoint_epoch(n) is not None]
    return max(saved)[1] if saved else None


def resume_point():
    # RESUME_FROM_CHECKPOINT, unless a newer checkpoint is saved: workers resumed from suspend start again with the
    # environment they were created with, so what they saved since is only on the volume.
    newest = newest_saved_checkpoint()
    if not RESUME_FROM:
        return newest
    given = checkpoint_epoch(RESUME_FROM)
    if newest and given is not None and checkpoint_epoch(newest) > given:
        return newest
    return RESUME_FROM


def save_checkpoint(model, optimizer, epoch):
    global last_checkpoint
    path = os.path.join(CHECKPOINT_DIR, f"epoch-{epoch}.pt")
    if RANK == 0:
        tmp = f"{path}.partial"
        started = time.monotonic()
        with open(tmp, "wb") as f:
            torch.save({"epoch": epoch, "model": model.module.state_dict(), "optimizer": optimizer.state_dict()}, f)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)  # a crash mid-write never leaves a torn checkpoint under the real name
        directory = os.open(CHECKPOINT_DIR, os.O_RDONLY)
        try:
            os.fsync(directory)  # and the rename itself survives a node crash
        finally:
            os.close(directory)
        log("checkpoint-saved", path=path, epoch=epoch, seconds=round(time.monotonic() - started, 4))
    dist.barrier()  # every rank reports it only once it is on disk
    last_checkpoint = (path, epoch)
    # Also in the log: a SIGKILLed worker writes no termination message, and FallbackToLogsOnError reads this line.
    print(json.dumps({"checkpoint": path, "epoch": epoch}), flush=True)


def main():
    signal.signal(signal.SIGTERM, on_sigterm)
    torch.manual_seed(0)
    torch.set_num_threads(1)
    address = wait_for_master()
    log("rendezvous", master=f"{MASTER_ADDR}:{MASTER_PORT}", address=address, world_size=WORLD_SIZE)
    dist.init_process_group("gloo", init_method=f"tcp://{address}:{MASTER_PORT}", rank=RANK, world_size=WORLD_SIZE, timeout=timedelta(minutes=5))
    global rendezvoused
    rendezvoused = True

    model = DistributedDataParallel(nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 2)))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE, momentum=0.9)
    start_epoch = 0
    resume_from = resume_point()
    if resume_from:
        # Not weights_only: torch 1.13 refuses the optimizer state with it; the path is this job's own checkpoint.
        state = torch.load(resume_from, map_location="cpu")
        model.module.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        start_epoch = int(state["epoch"])
        global last_checkpoint
        last_checkpoint = (resume_from, start_epoch)
        log("resumed", checkpoint=resume_from, epoch=start_epoch, **({"given": RESUME_FROM} if RESUME_FROM and RESUME_FROM != resume_from else {}))

    gauges, set_measured = start_metrics() if RANK == 0 else (None, None)
    if gauges:
        gauges["epoch"].set(start_epoch)
    data = data_set()
    sampler = DistributedSampler(data, num_replicas=WORLD_SIZE, rank=RANK, shuffle=True, seed=0)
    loader = DataLoader(data, batch_size=BATCH_SIZE, sampler=sampler)
    loss_fn = nn.CrossEntropyLoss()

    for epoch in range(start_epoch, EPOCHS):
        sampler.set_epoch(epoch)
        started = time.monotonic()
        totals = torch.zeros(3)  # loss sum, correct, samples
        for x, y in loader:
            optimizer.zero_grad()
            out = model(x)
            loss = loss_fn(out, y)
            loss.backward()
            optimizer.step()
            totals += torch.tensor([loss.item() * len(y), (out.argmax(1) == y).sum().item(), len(y)])
        dist.all_reduce(totals)
        pad = MIN_EPOCH_SECONDS - (time.monotonic() - started)
        if pad > 0:
            time.sleep(pad)
        seconds = time.monotonic() - started
        loss_mean, accuracy, rate = (totals[0] / totals[2]).item(), (totals[1] / totals[2]).item(), totals[2].item() / seconds
        log("epoch", epoch=epoch + 1, epochs=EPOCHS, loss=round(loss_mean, 5), accuracy=round(accuracy, 4), samples_per_second=round(rate, 1))
        if set_measured:
            set_measured("loss", loss_mean)
            set_measured("accuracy", accuracy)
            set_measured("throughput", rate)
        if CHECKPOINT_DIR and ((epoch + 1) % CHECKPOINT_FREQUENCY == 0 or epoch + 1 == EPOCHS):
            save_checkpoint(model, optimizer, epoch + 1)
        if gauges:
            gauges["epoch"].set(epoch + 1)

    log("done", epochs=EPOCHS)
    report_checkpoint()
    dist.destroy_process_group()


if __name__ == "__main__":
    try:
        main()
    except Exception as err:  # a peer died, the rendezvous timed out, ...: the job restarts from the last checkpoint
        message = f"{type(err).__name__}: {err}"
        peer_lost = rendezvoused and isinstance(err, RuntimeError) and any(h in message.lower() for h in PEER_LOST_HINTS)
        log("peer-lost" if peer_lost else "failed", error=message)
        report_checkpoint(message)
        sys.exit(PEER_LOST_EXIT_CODE if peer_lost else 1)
