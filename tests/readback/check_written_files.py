#!/usr/bin/python3
"""Do the files keras.cpp writes have the structure Keras's loaders read, and the values?

Reads real Keras files (../shared/keras-models), has `kerascpp` write them back as .keras,
.h5 and .weights.h5 and predict to .npy, then opens every written file with h5py, zipfile,
json and numpy -- not with keras.cpp -- and checks it against the layout Keras's loaders
expect and against the values Keras itself saved in the original file:
  .keras      keras/src/saving/saving_lib.py: a STORED zip of metadata.json, config.json,
              model.weights.h5; weights at layers/<snake_case(class)>[_k]/vars/<i> in the
              model's layer order (Sequential without its InputLayer), optimizer/vars/<i>
  .weights.h5 the same weights file alone (Model.save_weights)
  .h5         keras/src/legacy/saving/legacy_h5_format.py (tf_keras hdf5_format.py): root
              attributes keras_version, backend, model_config; group model_weights with
              layer_names, each layer group with weight_names naming its datasets
  .npy        numpy.load: float32 outputs equal to Keras's own within the project tolerance
Usage: check_written_files.py KERASCPP MODELS_DIR
Exit 0 when every check holds; each failure is printed.
"""
import io
import json
import os
import re
import subprocess
import sys
import tempfile
import zipfile

import h5py
import numpy as np

FAILURES = []


def check(ok, what):
    if not ok:
        FAILURES.append(what)
        print("FAIL:", what)
    return ok


def run(kerascpp, *args):
    r = subprocess.run([kerascpp, *args], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit("kerascpp %s failed: %s" % (" ".join(args), r.stderr.strip()))


def snake_case(name):  # keras/src/utils/naming.py to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def layer_paths(config):
    """Keras 3 weight paths of a model config's layers, in model.layers order."""
    layers = config["config"]["layers"]
    if config["class_name"] == "Sequential":
        layers = [l for l in layers if l["class_name"] != "InputLayer"]
    seen, paths = {}, []
    for l in layers:
        base = snake_case(l["class_name"])
        n = seen.get(base, 0)
        seen[base] = n + 1
        paths.append((l, "layers/" + (base if n == 0 else "%s_%d" % (base, n))))
    return paths


def vars_of(h5, path):
    if path not in h5 or "vars" not in h5[path]:
        return None
    g = h5[path]["vars"]
    return [np.array(g[str(i)]) for i in range(len(g))]


def keras3_weights(h5, config):
    """All layer weights of a Keras 3 weights file, in model order (one list per layer)."""
    out = []
    for l, p in layer_paths(config):
        v = vars_of(h5, p)
        if v is None:  # RNN layers keep theirs on the cell
            v = vars_of(h5, p + "/cell") or []
        out.append((l["config"]["name"], v))
    return out


def legacy_weights(g):
    """Layer weights of a legacy model_weights group (or weights-only root), in layer order."""
    names = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["layer_names"]]
    out = []
    for n in names:
        wn = [w.decode() if isinstance(w, bytes) else w for w in g[n].attrs["weight_names"]]
        out.append((n, [np.array(g[n][w]) for w in wn]))
    return out


def same_weights(got, want, what):
    got = [w for _, ws in got for w in ws]
    want = [w for _, ws in want for w in ws]
    if not check(len(got) == len(want), "%s: %d weight arrays, Keras's file has %d" % (what, len(got), len(want))):
        return
    for i, (a, b) in enumerate(zip(got, want)):
        check(a.shape == b.shape and a.dtype == b.dtype and np.array_equal(a, b),
              "%s: weight %d is %s %s, Keras's is %s %s (or values differ)" % (what, i, a.shape, a.dtype, b.shape, b.dtype))


def check_keras_archive(path, want_config, want_weights):
    z = zipfile.ZipFile(path)
    infos = z.infolist()
    check([i.filename for i in infos] == ["metadata.json", "config.json", "model.weights.h5"],
          "%s: zip entries %s" % (path, [i.filename for i in infos]))
    check(all(i.compress_type == zipfile.ZIP_STORED for i in infos), "%s: entries must be STORED" % path)
    meta = json.loads(z.read("metadata.json"))
    check(isinstance(meta.get("keras_version"), str) and meta["keras_version"].startswith("3."),
          "%s: metadata keras_version %r" % (path, meta.get("keras_version")))
    check(re.fullmatch(r"\d{4}-\d\d-\d\d@\d\d:\d\d:\d\d", meta.get("date_saved", "")) is not None,
          "%s: metadata date_saved %r" % (path, meta.get("date_saved")))
    config = json.loads(z.read("config.json"))
    for key in ("module", "class_name", "config", "registered_name", "build_config", "compile_config"):
        check(key in config, "%s: config.json lacks %s" % (path, key))
    check(config["class_name"] == want_config["class_name"], "%s: class %s" % (path, config["class_name"]))
    got_layers = [(l["class_name"], l["config"]["name"]) for l in config["config"]["layers"]]
    want_layers = [(l["class_name"], l["config"]["name"]) for l in want_config["config"]["layers"]]
    check(got_layers == want_layers, "%s: layers %s, Keras's %s" % (path, got_layers, want_layers))
    for l in config["config"]["layers"]:
        check(all(k in l for k in ("module", "class_name", "config", "registered_name")),
              "%s: layer entry %s lacks module/class_name/config/registered_name" % (path, l.get("class_name")))
        check(l.get("module") == "keras.layers", "%s: layer %s module %r" % (path, l["class_name"], l.get("module")))
    h5 = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    check_weights_file(h5, config, want_weights, path + " model.weights.h5")
    return h5


def check_weights_file(h5, config, want_weights, what):
    check(len(h5.attrs) == 0, "%s: root attributes %s" % (what, list(h5.attrs)))
    same_weights(keras3_weights(h5, config), want_weights, what)
    # Nothing beside the paths Keras reads: every dataset sits in a vars group Keras visits.
    expected = {p for _, p in layer_paths(config)} | {p + "/cell" for _, p in layer_paths(config)} | {"optimizer", ""}
    def visit(name, obj):
        if isinstance(obj, h5py.Dataset):
            owner = name.rsplit("/vars/", 1)[0] if "/vars/" in name else ("" if name.startswith("vars/") else None)
            check(owner in expected, "%s: dataset %s outside the paths Keras reads" % (what, name))
    h5.visititems(visit)


def check_legacy_h5(path, want_config, want_weights):
    f = h5py.File(path, "r")
    for key in ("keras_version", "backend", "model_config"):
        check(key in f.attrs, "%s: root attribute %s missing" % (path, key))
    mc = f.attrs["model_config"]
    mc = json.loads(mc.decode() if isinstance(mc, bytes) else mc)
    check(mc["class_name"] == want_config["class_name"], "%s: model_config class %s" % (path, mc["class_name"]))
    check("model_weights" in f, "%s: no model_weights group" % path)
    got = legacy_weights(f["model_weights"])
    names = [n for n, _ in got]
    want_names = [l["config"]["name"] for l, _ in layer_paths(want_config)]
    check(names == want_names, "%s: layer_names %s, model.layers %s" % (path, names, want_names))
    same_weights(got, want_weights, path)


def npy_matches(path, want, what):
    got = np.load(path)
    check(got.dtype == np.float32, "%s: dtype %s" % (what, got.dtype))
    if check(got.shape == want.shape, "%s: shape %s, Keras's %s" % (what, got.shape, want.shape)):
        tol = 1e-5 + 1e-4 * np.abs(want)
        check(bool(np.all(np.abs(got - want) <= tol)), "%s: values off by up to %g" % (what, np.max(np.abs(got - want))))


def keras3_source(kerascpp, models, out):
    """A Keras 3.1 .keras (Sequential CNN with Adam state), and its own test image."""
    d = os.path.join(models, "moonflower_mnist_cnn_keras3")
    src = os.path.join(d, "mnist_model.keras")
    z = zipfile.ZipFile(src)
    config = json.loads(z.read("config.json"))
    orig = h5py.File(io.BytesIO(z.read("model.weights.h5")), "r")
    want = keras3_weights(orig, config)
    for ext in (".keras", ".h5", ".weights.h5"):
        run(kerascpp, "convert", src, os.path.join(out, "k3" + ext))
    ours = check_keras_archive(os.path.join(out, "k3.keras"), config, want)
    opt = [np.array(orig["optimizer/vars"][str(i)]) for i in range(len(orig["optimizer/vars"]))]
    if check("optimizer/vars" in ours, "k3.keras: the optimizer state Keras saved is missing"):
        got = [np.array(ours["optimizer/vars"][str(i)]) for i in range(len(ours["optimizer/vars"]))]
        same_weights([("optimizer", got)], [("optimizer", opt)], "k3.keras optimizer/vars")
    check_weights_file(h5py.File(os.path.join(out, "k3.weights.h5"), "r"), config, want, "k3.weights.h5")
    check_legacy_h5(os.path.join(out, "k3.h5"), config, want)
    run(kerascpp, "predict", src, os.path.join(d, "input_1png.npy"), "-o", os.path.join(out, "k3_out.npy"))
    npy_matches(os.path.join(out, "k3_out.npy"), np.load(os.path.join(d, "expected_output_1png.npy")), "k3_out.npy")


def keras2_source(kerascpp, models, out):
    """A Keras 2.1 .h5 (Conv2D, BatchNormalization, Activation, Flatten, Dense) and its predictions."""
    d = os.path.join(models, "dl4j_cnn_batchnorm")
    src = os.path.join(d, "cnn_batch_norm.h5")
    orig = h5py.File(src, "r")
    want = [(n, ws) for n, ws in legacy_weights(orig["model_weights"])]
    for ext in (".keras", ".h5"):
        run(kerascpp, "convert", src, os.path.join(out, "k2" + ext))
    z = zipfile.ZipFile(os.path.join(out, "k2.keras"))
    config = json.loads(z.read("config.json"))
    # Keras 2 lists weightless layers too; compare the arrays in order.
    check_keras_archive(os.path.join(out, "k2.keras"), config, want)
    check_legacy_h5(os.path.join(out, "k2.h5"), config, want)
    run(kerascpp, "predict", src, os.path.join(d, "input.npy"), "-o", os.path.join(out, "k2_out.npy"))
    npy_matches(os.path.join(out, "k2_out.npy"), np.load(os.path.join(d, "predictions.npy")), "k2_out.npy")


def main():
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    kerascpp, models = sys.argv[1], sys.argv[2]
    if not os.path.isdir(models):
        raise SystemExit("no real Keras files at %s (the check needs them)" % models)
    with tempfile.TemporaryDirectory() as out:
        keras3_source(kerascpp, models, out)
        keras2_source(kerascpp, models, out)
    print("%d failure(s)" % len(FAILURES))
    return 1 if FAILURES else 0


if __name__ == "__main__":
    sys.exit(main())
