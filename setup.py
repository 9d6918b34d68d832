"""Packaging for inception_keras and deepdream."""

from setuptools import find_packages, setup

setup(
    name="inception-keras",
    version="0.1.0",
    description="Inception-v3 for Keras 3 with layer introspection, and a fast DeepDream built on it",
    long_description=open("README.md", encoding="utf8").read(),
    long_description_content_type="text/markdown",
    license="Apache-2.0",
    python_requires=">=3.10",
    packages=find_packages(include=["inception_keras", "inception_keras.*", "deepdream", "deepdream.*"]),
    package_data={"inception_keras": ["data/*.json"]},
    install_requires=[
        "tensorflow>=2.16",
        "keras>=3.0",
        "numpy",
        "pillow",
        "matplotlib",
        "tqdm",
        "h5py",
        "av",
        "opencv-python-headless",
    ],
    extras_require={
        # scikit-image ships the texture photos of examples/transfer_learning.py.
        "examples": ["scikit-image"],
        "dev": ["pytest", "ruff", "scikit-image", "playwright"],
        "jax": ["jax"],
        # Install torch==2.13.0 (or the build for your accelerator) first: this range then adds nothing.
        "torch": ["torch>=2.1"],
        "ray": ["ray[data]"],
        "web": ["gradio>=6", "gradio_client"],
        "export": ["tf2onnx", "onnx", "onnxruntime", "ai-edge-litert"],
    },
    entry_points={
        "console_scripts": [
            "inception-keras=inception_keras.cli:main",
            "deepdream=deepdream.cli:main",
        ]
    },
)
