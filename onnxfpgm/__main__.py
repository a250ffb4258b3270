"""`python -m onnxfpgm` runs the command line."""

from .cli import main

main(prog_name="onnxfpgm")
