"""Tests for motionlab.nn.conv encoders/decoders and their registry."""

from __future__ import annotations

import pytest
import torch

from motionlab.errors import MotionLabError
from motionlab.nn.conv import ResBlock1D, ResNetDecoder, ResNetEncoder, SimpleDecoder, SimpleEncoder
from motionlab.nn.registry import DECODERS, ENCODERS, build_decoder, build_encoder

SMALL = {"simple": dict(width=16), "resnet": dict(width=16, depth=2, dilation_growth=2)}


@pytest.mark.parametrize("name", ["simple", "resnet"])
@pytest.mark.parametrize("down_t", [0, 1, 2, 3])
def test_shapes_round_trip(name, down_t):
    torch.manual_seed(0)
    enc = build_encoder(name, 7, 5, down_t=down_t, **SMALL[name])
    dec = build_decoder(name, 5, 7, down_t=down_t, **SMALL[name])
    x = torch.randn(3, 48, 7)
    z = enc(x)
    assert z.shape == (3, 48 // 2**down_t, 5)
    assert enc.downsample_factor == 2**down_t
    assert dec(z).shape == x.shape


def test_registry_tables_and_classes():
    assert ENCODERS == {"simple": SimpleEncoder, "resnet": ResNetEncoder}
    assert DECODERS == {"simple": SimpleDecoder, "resnet": ResNetDecoder}


@pytest.mark.parametrize("name", ["simple", "resnet"])
def test_length_not_divisible_is_a_clear_error(name):
    enc = build_encoder(name, 4, 3, down_t=2, **SMALL[name])
    with pytest.raises(MotionLabError, match="time length 30 must be a positive multiple of 4"):
        enc(torch.randn(1, 30, 4))
    enc(torch.randn(1, 32, 4))  # fine


@pytest.mark.parametrize("name", ["simple", "resnet"])
def test_bad_shapes_and_types(name):
    enc = build_encoder(name, 4, 3, down_t=1, **SMALL[name])
    dec = build_decoder(name, 3, 4, down_t=1, **SMALL[name])
    with pytest.raises(MotionLabError, match=r"\(batch, time, 4\)"):
        enc(torch.randn(1, 8, 5))
    with pytest.raises(MotionLabError, match="encoder input"):
        enc(torch.randn(8, 4))
    with pytest.raises(MotionLabError, match="floating"):
        enc(torch.zeros(1, 8, 4, dtype=torch.long))
    with pytest.raises(MotionLabError, match="decoder input"):
        dec(torch.randn(1, 8, 4))
    with pytest.raises(MotionLabError, match="positive multiple"):
        enc(torch.randn(1, 0, 4))


def test_registry_errors():
    with pytest.raises(MotionLabError, match="valid choices: resnet, simple"):
        build_encoder("transformer", 4, 4)
    with pytest.raises(MotionLabError, match="valid choices: resnet, simple"):
        build_decoder("unet", 4, 4)
    with pytest.raises(MotionLabError, match="valid options: .*dilation_growth"):
        build_encoder("resnet", 4, 4, growth=3)
    with pytest.raises(MotionLabError, match="down_t"):
        build_encoder("simple", 4, 4, down_t=-1)
    with pytest.raises(MotionLabError, match="width"):
        build_decoder("resnet", 4, 4, width=0)


def test_resnet_dilations_grow_geometrically():
    enc = ResNetEncoder(4, 4, width=8, down_t=1, depth=3, dilation_growth=3)
    dec = ResNetDecoder(4, 4, width=8, down_t=1, depth=3, dilation_growth=3)
    for net in (enc, dec):
        dilated = [b.body[1].dilation[0] for b in net.modules() if isinstance(b, ResBlock1D)]
        assert dilated == [9, 3, 1]  # largest first, as in T2M-GPT


@pytest.mark.parametrize("name", ["simple", "resnet"])
def test_shift_equivariance_by_downsample_factor(name):
    # conv stacks commute with shifts: moving the input by 2**down_t frames moves the latents by one
    # step (away from the zero-padded ends), and moving the latents by one step moves the output by 2**down_t
    torch.manual_seed(0)
    enc = build_encoder(name, 3, 4, down_t=2, **SMALL[name]).eval()
    dec = build_decoder(name, 4, 3, down_t=2, **SMALL[name]).eval()
    x = torch.randn(1, 256, 3)
    x_shift = torch.cat([x[:, 4:], torch.randn(1, 4, 3)], dim=1)
    with torch.no_grad():
        z, z_shift = enc(x), enc(x_shift)
        torch.testing.assert_close(z_shift[:, 16:48], z[:, 17:49], atol=1e-5, rtol=1e-5)
        y, y_shift = dec(z), dec(torch.cat([z[:, 1:], z[:, :1]], dim=1))
        torch.testing.assert_close(y_shift[:, 64:192], y[:, 68:196], atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("name", ["simple", "resnet"])
def test_receptive_field_is_local(name):
    # changing the first frames leaves far-away latent steps untouched
    torch.manual_seed(0)
    enc = build_encoder(name, 3, 4, down_t=2, **SMALL[name]).eval()
    x = torch.randn(1, 256, 3)
    x2 = x.clone()
    x2[:, :4] += 10.0
    with torch.no_grad():
        diff = (enc(x) - enc(x2)).abs().amax(dim=-1)[0]
    assert diff[0] > 0
    assert torch.all(diff[32:] == 0)


def test_gradients_flow_through_encoder_and_decoder():
    enc = build_encoder("resnet", 3, 4, down_t=1, **SMALL["resnet"])
    dec = build_decoder("resnet", 4, 3, down_t=1, **SMALL["resnet"])
    x = torch.randn(2, 16, 3, requires_grad=True)
    dec(enc(x)).pow(2).mean().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is not None for p in [*enc.parameters(), *dec.parameters()])
