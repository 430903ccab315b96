"""The big-model backend, on tiny randomly initialised components built here, saved and loaded back from disk.

Nothing is downloaded: the components are built from configs, the CLIP tokenizer from a byte-level vocabulary.
"""

from __future__ import annotations

import json
import os
import shutil

os.environ["HF_HUB_OFFLINE"] = "1"  # set before diffusers / huggingface_hub are imported

import numpy as np  # noqa: E402
import pytest  # noqa: E402

torch = pytest.importorskip("torch")
pytest.importorskip("diffusers")
pytest.importorskip("transformers")

from renderer.pipeline_backend import FAR, PipelineBackend, depth_to_control_image  # noqa: E402


def _tiny_components():
    from diffusers import AutoencoderKL, EulerDiscreteScheduler, UNet2DConditionModel
    from tokenizers.pre_tokenizers import ByteLevel
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    chars = sorted(ByteLevel.alphabet())  # every byte is spellable, no merges needed
    vocab = {c: i for i, c in enumerate(chars)}
    vocab.update({c + "</w>": len(chars) + i for i, c in enumerate(chars)})
    vocab.update({"<|startoftext|>": len(vocab), "<|endoftext|>": len(vocab) + 1})
    tokenizer = CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)
    torch.manual_seed(0)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(vocab), hidden_size=16, intermediate_size=32, num_hidden_layers=1, num_attention_heads=2,
        max_position_embeddings=77, projection_dim=16, bos_token_id=vocab["<|startoftext|>"],
        eos_token_id=vocab["<|endoftext|>"], pad_token_id=vocab["<|endoftext|>"]))
    unet = UNet2DConditionModel(
        sample_size=8, in_channels=4, out_channels=4, layers_per_block=1, block_out_channels=(8, 16),
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=16, attention_head_dim=2, norm_num_groups=4)
    vae = AutoencoderKL(  # two blocks: a VAE scale factor of 2, as real ones have 8
        in_channels=3, out_channels=3, down_block_types=("DownEncoderBlock2D",) * 2,
        up_block_types=("UpDecoderBlock2D",) * 2, block_out_channels=(8, 8), latent_channels=4, norm_num_groups=4,
        layers_per_block=1, sample_size=16)
    scheduler = EulerDiscreteScheduler(timestep_spacing="trailing", steps_offset=1)  # as SD-Turbo ships
    return {"vae": vae, "text_encoder": text_encoder, "tokenizer": tokenizer, "unet": unet, "scheduler": scheduler,
            "safety_checker": None, "feature_extractor": None}


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """{"img2img": an SD img2img pipeline folder, "txt2img": the same saved as a text-to-image pipeline (how
    SD-Turbo ships), "controlnet": a ControlNet folder whose zero-initialised convs were randomised so the control
    image visibly matters}."""
    from diffusers import ControlNetModel, StableDiffusionImg2ImgPipeline, StableDiffusionPipeline

    parts = _tiny_components()
    root = tmp_path_factory.mktemp("pipelines")
    out = {name: root / name for name in ("img2img", "txt2img", "controlnet")}
    StableDiffusionImg2ImgPipeline(**parts, requires_safety_checker=False).save_pretrained(out["img2img"])
    StableDiffusionPipeline(**parts, requires_safety_checker=False).save_pretrained(out["txt2img"])
    controlnet = ControlNetModel.from_unet(parts["unet"], conditioning_embedding_out_channels=(4, 8))
    with torch.no_grad():
        zero_init = [*controlnet.controlnet_down_blocks, controlnet.controlnet_mid_block,
                     controlnet.controlnet_cond_embedding.conv_out]
        for block in zero_init:
            for p in block.parameters():
                p.normal_(0.0, 0.5)
    controlnet.save_pretrained(out["controlnet"])
    return out


@pytest.fixture(scope="module")
def backend(folders):
    return PipelineBackend(folders["img2img"])


@pytest.fixture(scope="module")
def cn_backend(folders):
    return PipelineBackend(folders["img2img"], controlnet_path=folders["controlnet"])


def _frame(h=36, w=52, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def _depth(h=36, w=52, near=2.0):
    d = np.full((h, w), FAR, np.float32)
    d[h // 4:, : w // 2] = near
    d[h // 2:, w // 2:] = 6.0
    return d


def test_restyle_shape_dtype_and_determinism(backend):
    img = _frame()  # 52×36: not a multiple of 8, resized internally and back
    out = backend.restyle(img, "toon")
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.array_equal(out, backend.restyle(img, "toon"))
    assert np.array_equal(out, backend.restyle(img, "toon", seed=0))  # the constructor's seed is the default
    assert not np.array_equal(out, backend.restyle(img, "toon", seed=1))
    assert not np.array_equal(out, img)
    assert backend.denoising_steps == 1 and not backend.has_controlnet
    assert backend.restyle(_frame(16, 24), "").shape == (16, 24, 3)


def test_text_to_image_folder_and_unmapped_class_load(folders, tmp_path):
    """SD-Turbo ships as a StableDiffusionPipeline folder; an unmapped class name falls back to SD img2img."""
    img = _frame()
    a = PipelineBackend(folders["txt2img"], steps=3, strength=0.5, seed=5).restyle(img, "toon")
    assert a.shape == img.shape and a.dtype == np.uint8
    renamed = tmp_path / "renamed"
    shutil.copytree(folders["img2img"], renamed)
    index = json.loads((renamed / "model_index.json").read_text())
    index["_class_name"] = "MyRenamedPipeline"
    (renamed / "model_index.json").write_text(json.dumps(index))
    b = PipelineBackend(renamed, steps=3, strength=0.5, seed=5)
    assert type(b.pipeline).__name__ == "StableDiffusionImg2ImgPipeline"
    assert np.array_equal(b.restyle(img, "toon"), a)  # same weights, same seed: same bytes


def test_controlnet_depth_conditioning(cn_backend):
    img, depth = _frame(), _depth()
    out = cn_backend.restyle(img, "x", depth=depth)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert type(cn_backend.pipeline).__name__ == "StableDiffusionControlNetImg2ImgPipeline"
    assert np.array_equal(out, cn_backend.restyle(img, "x", depth=depth))
    assert not np.array_equal(out, cn_backend.restyle(img, "x", depth=_depth(near=0.5)))  # the depth matters
    seg = np.zeros((36, 52, 3), np.uint8)  # a ready-made control image (e.g. segmentation colours) is used as is
    seg[10:, :20] = (255, 0, 0)
    assert cn_backend.restyle(img, "x", depth=seg).shape == img.shape
    with pytest.raises(ValueError, match="depth="):
        cn_backend.restyle(img, "x")
    with pytest.raises(ValueError, match="same size"):
        cn_backend.restyle(img, "x", depth=_depth(20, 20))
    with pytest.raises(ValueError, match="depth must be"):
        cn_backend.restyle(img, "x", depth=np.zeros((36, 52), np.int64))


def test_depth_to_control_image():
    c = depth_to_control_image(_depth())
    assert c.shape == (36, 52, 3) and c.dtype == np.uint8
    assert c[0, 0, 0] == 0 and c[-1, 0, 0] == 255 and 0 < c[-1, -1, 0] < 255  # sky black, nearest white
    assert (depth_to_control_image(np.full((4, 4), FAR, np.float32)) == 0).all()
    assert (depth_to_control_image(np.full((4, 4), 3.0)) == 255).all()
    with pytest.raises(ValueError):
        depth_to_control_image(np.zeros((4, 4, 3), np.float32))


def test_missing_and_wrong_folders_name_the_folder(folders, tmp_path):
    missing = tmp_path / "no_such_model"
    with pytest.raises(ValueError, match="no_such_model"):
        PipelineBackend(missing)
    with pytest.raises(ValueError, match=r"controlnet.*model_index\.json"):  # a ControlNet is not a pipeline
        PipelineBackend(folders["controlnet"])
    with pytest.raises(ValueError, match=r"img2img.*config\.json"):  # a pipeline is not a ControlNet
        PipelineBackend(folders["img2img"], controlnet_path=folders["img2img"])
    with pytest.raises(ValueError, match="no_such_model"):
        PipelineBackend(folders["img2img"], controlnet_path=missing)
    broken = tmp_path / "broken"
    shutil.copytree(folders["img2img"], broken)
    (broken / "model_index.json").write_text("{not json")
    with pytest.raises(ValueError, match="broken"):
        PipelineBackend(broken)
    shutil.rmtree(broken / "unet")
    (broken / "model_index.json").write_text((folders["img2img"] / "model_index.json").read_text())
    with pytest.raises(ValueError, match="broken"):
        PipelineBackend(broken)


@pytest.mark.parametrize("kwargs, match", [
    ({"steps": 0}, "steps"), ({"steps": 2.0}, "steps"), ({"strength": 0}, "strength"),
    ({"steps": 1, "strength": 0.5}, "steps × strength"), ({"guidance_scale": -1}, "guidance_scale"),
    ({"seed": -1}, "seed"), ({"device": "no-such-device"}, "device"), ({"dtype": "int8"}, "dtype"),
])
def test_bad_parameters(folders, kwargs, match):
    with pytest.raises(ValueError, match=match):
        PipelineBackend(folders["img2img"], **kwargs)


@pytest.mark.parametrize("image, match", [
    ([[0, 0, 0]], "numpy array"), (np.zeros((32, 32, 3), np.float32), "uint8"),
    (np.zeros((32, 32), np.uint8), r"\(H, W, 3\)"), (np.zeros((32, 32, 4), np.uint8), r"\(H, W, 3\)"),
    (np.zeros((8, 32, 3), np.uint8), "16"), (np.zeros((32, 1025, 3), np.uint8), "1024"),
])
def test_bad_images(backend, image, match):
    with pytest.raises(ValueError, match=match):
        backend.restyle(image, "toon")


def test_bad_prompt_seed_and_depth_without_controlnet(backend):
    img = _frame()
    with pytest.raises(ValueError, match="prompt"):
        backend.restyle(img, None)
    with pytest.raises(ValueError, match="1000"):
        backend.restyle(img, "x" * 1001)
    with pytest.raises(ValueError, match="seed"):
        backend.restyle(img, "x", seed=1.5)
    with pytest.raises(ValueError, match="no ControlNet"):
        backend.restyle(img, "x", depth=_depth())


def test_controlnet_for_another_base_model_is_refused(folders, tmp_path):
    from diffusers import ControlNetModel, UNet2DConditionModel

    other = UNet2DConditionModel(  # cross_attention_dim 8, the base model's text encoder gives 16
        sample_size=8, layers_per_block=1, block_out_channels=(8, 16), norm_num_groups=4, attention_head_dim=2,
        down_block_types=("DownBlock2D", "CrossAttnDownBlock2D"), up_block_types=("CrossAttnUpBlock2D", "UpBlock2D"),
        cross_attention_dim=8)
    ControlNetModel.from_unet(other, conditioning_embedding_out_channels=(4, 8)).save_pretrained(tmp_path / "sd1_cn")
    with pytest.raises(ValueError, match=r"sd1_cn.*not made for"):
        PipelineBackend(folders["img2img"], controlnet_path=tmp_path / "sd1_cn")
