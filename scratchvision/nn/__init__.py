"""Inference of video (and image) networks in NumPy + Numba, equal to torchvision's for the same
weights: the layers (:mod:`.functional`, :mod:`.modules`), the networks (R3D-18, MC3-18,
R(2+1)D-18, ResNet-18/50, Two-Stream), checkpoint loading without torch, and the clip pipeline."""

from .checkpoint import load_checkpoint, unwrap_state_dict
from .clips import (IMAGENET_MEAN, IMAGENET_STD, KINETICS_MEAN, KINETICS_STD, classify_video,
                    classify_video_two_stream, kinetics400_classes, preprocess_frames, sample_clips,
                    two_stream_inputs)
from . import winograd
from .functional import (adaptive_avg_pool2d, adaptive_avg_pool3d, avg_pool2d, avg_pool3d, conv2d, conv3d,
                         conv_lowering, linear, max_pool2d, max_pool3d, relu, softmax)
from .modules import (AdaptiveAvgPool2d, AdaptiveAvgPool3d, BatchNorm2d, BatchNorm3d, Conv2d, Conv3d, Dropout,
                      Flatten, Linear, MaxPool2d, MaxPool3d, Module, ReLU, Sequential)
from .raft import (RAFT, InstanceNorm2d, RAFTTrace, calc_optical_flow_raft, correlation_pyramid, lookup_correlation,
                   lookup_correlation_on_demand, pooled_features, raft_large, raft_small)
from .resnet import ResNet, resnet18, resnet50
from .two_stream import TwoStream, cross_modality_conv1, flow_stack
from .video_resnet import VideoResNet, mc3_18, r2plus1d_18, r3d_18

__all__ = ["load_checkpoint", "unwrap_state_dict", "winograd", "conv_lowering", "conv2d", "conv3d", "max_pool2d", "max_pool3d", "avg_pool2d", "avg_pool3d", "adaptive_avg_pool2d",
           "adaptive_avg_pool3d", "relu", "linear", "softmax", "Module", "Sequential", "Conv2d", "Conv3d",
           "BatchNorm2d", "BatchNorm3d", "ReLU", "MaxPool2d", "MaxPool3d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d",
           "Linear", "Dropout", "Flatten", "ResNet", "resnet18", "resnet50", "VideoResNet", "r3d_18", "mc3_18",
           "r2plus1d_18", "TwoStream", "cross_modality_conv1", "flow_stack", "classify_video", "classify_video_two_stream", "kinetics400_classes",
           "sample_clips", "preprocess_frames", "two_stream_inputs", "KINETICS_MEAN", "KINETICS_STD", "IMAGENET_MEAN",
           "IMAGENET_STD", "RAFT", "RAFTTrace", "raft_small", "raft_large", "calc_optical_flow_raft", "InstanceNorm2d", "correlation_pyramid",
           "lookup_correlation", "lookup_correlation_on_demand", "pooled_features"]
