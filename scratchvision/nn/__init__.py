"""Inference of video (and image) networks in NumPy + Numba, equal to torchvision's, Hugging Face's
and vit-pytorch's for the same weights: the layers (:mod:`.functional`, :mod:`.modules`,
:mod:`.transformer`), the networks (R3D-18, MC3-18, R(2+1)D-18, ResNet-18/50, Two-Stream, RAFT,
VideoMAE, TimeSformer, ViViT, OSNet, CNN+LSTM, TSN), a profiler (:func:`profile`), checkpoint loading without torch,
and the clip pipeline."""

from .checkpoint import load_checkpoint, save_safetensors, unwrap_state_dict
from .clips import (IMAGENET_MEAN, IMAGENET_STD, KINETICS_MEAN, KINETICS_STD, classify_video,
                    classify_video_two_stream, kinetics400_classes, preprocess_frames, sample_clips, sample_indices,
                    two_stream_inputs)
from . import winograd
from .functional import (adaptive_avg_pool2d, adaptive_avg_pool3d, avg_pool2d, avg_pool3d, conv2d, conv3d,
                         add_relu, conv_lowering, linear, max_pool2d, max_pool3d, relu, softmax)
from .hub import from_pretrained, preprocess_video
from .modules import (AdaptiveAvgPool2d, AdaptiveAvgPool3d, BatchNorm1d, BatchNorm2d, BatchNorm3d, Conv2d, Conv3d,
                      Dropout,
                      Flatten, Identity, Linear, MaxPool2d, MaxPool3d, Module, ReLU, Sequential)
from .profiling import LayerProfile, Profile, profile
from .raft import (RAFT, InstanceNorm2d, RAFTTrace, calc_optical_flow_raft, correlation_pyramid, lookup_correlation,
                   load_raft, lookup_correlation_on_demand, pooled_features, raft_large, raft_small)
from .recurrent import GRU, LSTM
from .reid import DeepSortReID, OSNet, deepsort_reid, embed, osnet_x0_25, osnet_x0_5, osnet_x1_0
from .resnet import ResNet, resnet18, resnet50
from .temporal import CNNLSTM, TSN
from .timesformer_model import TimesformerForVideoClassification, timesformer
from .transformer import LayerNorm, gelu, layer_norm, self_attention, sinusoid_table
from .two_stream import TwoStream, cross_modality_conv1, flow_stack
from .video_resnet import VideoResNet, mc3_18, r2plus1d_18, r3d_18
from .videomae_model import (VideoMAEForPreTraining, VideoMAEForVideoClassification, random_mask, tube_mask,
                             video_patches, videomae, videomae_pretraining, videomae_reconstruction)
from .vivit_model import ViViTFactorised, VivitForVideoClassification, vivit, vivit_factorised

#: The first list holds the user-level names, exported at the top level too
#: (``scratchvision.<name>``); the names added after it are reached through the subpackage.
__all__ = ["calc_optical_flow_raft"]
__all__ += ["load_checkpoint", "save_safetensors", "unwrap_state_dict", "winograd", "conv_lowering",
            "conv2d", "conv3d", "max_pool2d", "max_pool3d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool2d",
            "adaptive_avg_pool3d", "relu", "add_relu", "linear", "softmax", "Module", "Sequential", "Conv2d", "Conv3d",
            "BatchNorm2d", "BatchNorm3d", "ReLU", "MaxPool2d", "MaxPool3d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
            "Linear", "Identity", "Dropout", "Flatten", "ResNet", "resnet18", "resnet50", "VideoResNet", "r3d_18",
            "mc3_18", "r2plus1d_18", "TwoStream", "cross_modality_conv1", "flow_stack", "classify_video",
            "classify_video_two_stream", "kinetics400_classes", "sample_clips", "preprocess_frames",
            "two_stream_inputs", "KINETICS_MEAN", "KINETICS_STD", "IMAGENET_MEAN", "IMAGENET_STD", "RAFT",
            "RAFTTrace", "raft_small", "raft_large", "load_raft", "InstanceNorm2d", "correlation_pyramid",
            "lookup_correlation", "lookup_correlation_on_demand", "pooled_features", "LayerNorm", "gelu",
            "layer_norm", "self_attention", "sinusoid_table", "videomae", "videomae_pretraining",
            "VideoMAEForVideoClassification", "VideoMAEForPreTraining", "tube_mask", "random_mask", "video_patches",
            "videomae_reconstruction", "timesformer", "TimesformerForVideoClassification", "vivit",
            "VivitForVideoClassification", "vivit_factorised", "ViViTFactorised", "from_pretrained",
            "preprocess_video", "BatchNorm1d", "OSNet", "osnet_x1_0", "osnet_x0_5", "osnet_x0_25", "DeepSortReID",
            "deepsort_reid", "embed", "LSTM", "GRU", "CNNLSTM", "TSN", "sample_indices", "profile", "Profile",
            "LayerProfile"]
