"""The four baselines: output shapes for 3 and 5 classes, registry, MobileNetV2 weight loading."""

from __future__ import annotations

import pytest
import torch

from equime.errors import EquimeError
from equime.mer.models import count_parameters, create_model, model_names

NAMES = ["stcnn", "resnet3d", "mobilenet", "simple3dcnn"]


def test_registry_lists_the_four() -> None:
    assert set(NAMES) <= set(model_names())
    assert {"ststnet", "htnet"} <= set(model_names())  # the flow models (tests/test_mer_flow.py)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("n_classes", [3, 5])
def test_output_shape(name: str, n_classes: int) -> None:
    torch.manual_seed(0)
    model = create_model(
        name, n_classes, n_frames=16, size=32, **({"image_size": 64} if name == "mobilenet" else {})
    )
    x = torch.randn(2, 1, 16, 32, 32)
    model.train()
    logits = model(x)
    assert logits.shape == (2, n_classes)
    logits.sum().backward()  # gradients reach the input layer
    first = next(p for p in model.parameters() if p.requires_grad)
    assert first.grad is not None


@pytest.mark.parametrize("name", NAMES)
def test_default_input_shape(name: str) -> None:
    """The paper's input: 96 frames of 64x64."""
    model = create_model(name, 5).eval()
    with torch.no_grad():
        assert model(torch.zeros(1, 1, 96, 64, 64)).shape == (1, 5)


def test_paper_sized_heads() -> None:
    """ST-CNN and Simple3DCNN keep Keras' flatten heads, so sizes depend on the input shape."""
    assert count_parameters(create_model("stcnn", 5)) == 185_005_701
    assert count_parameters(create_model("simple3dcnn", 5)) == 46_251_845
    assert count_parameters(create_model("resnet3d", 5)) == 8_252_485


def test_unknown_model_and_bad_option() -> None:
    with pytest.raises(EquimeError, match="unknown model"):
        create_model("vgg", 5)
    with pytest.raises(EquimeError, match="bad option"):
        create_model("resnet3d", 5, depth=50)
    assert create_model("ResNet-3D", 3) is not None  # spelling-tolerant


def test_mobilenet_weights_from_file(tmp_path) -> None:
    """ImageNet weights are read from a torchvision-named state dict; the first blocks freeze."""
    from safetensors.torch import save_file

    torch.manual_seed(1)
    donor = create_model("mobilenet", 5)
    state = {f"features.{k}": v for k, v in donor.features.state_dict().items()}
    state["classifier.1.weight"] = torch.zeros(1000, 1280)  # torchvision's head: ignored
    torch.save(state, tmp_path / "mnv2.pth")
    save_file(state, str(tmp_path / "mnv2.safetensors"))
    for name in ("mnv2.pth", "mnv2.safetensors"):
        model = create_model("mobilenet", 3, weights=str(tmp_path / name))
        assert model.weights_source == f"ImageNet ({name})"
        assert torch.equal(model.features[5].conv[0][0].weight, donor.features[5].conv[0][0].weight)
        assert not model.features[3].conv[0][0].weight.requires_grad  # frozen (block 2)
        assert model.features[15].conv[0][0].weight.requires_grad  # trained (block 14)
        model.train()
        assert not model.features[0][1].training  # frozen batch norm stays in inference mode
    scratch = create_model("mobilenet", 3)
    assert scratch.weights_source == "scratch"
    assert all(p.requires_grad for p in scratch.parameters())
    torch.save({"foo": torch.zeros(1)}, tmp_path / "bad.pth")
    with pytest.raises(EquimeError, match="not torchvision MobileNetV2"):
        create_model("mobilenet", 3, weights=str(tmp_path / "bad.pth"))
    with pytest.raises(EquimeError, match="not found"):
        create_model("mobilenet", 3, weights=str(tmp_path / "none.pth"))
