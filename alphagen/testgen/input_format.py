"""The one input-format model of a stdio problem, learned once from the examples and shared by every source.

It holds the skeleton (`template.Template`: fixed rows, arrays / strings / row blocks sized by an earlier
scalar, test cases) and the checks a new input must pass. The skeleton is the format; what varies between
uses is only how strictly an input is held to it, and that is explicit (`Leniency`):

    EXACT       the skeleton reads the input (sizes agree with what they size): for inputs we built from it
                (the grammar-constrained model inputs are checked this way in tests);
    SHAPE       the looser rules of `structure.Format` (token kinds per line, a line count explained by a
                leading number, arrays as long as some earlier number, numbers within the stated span): for
                inputs written without the skeleton (mutants, unconstrained model inputs, generator output),
                and for examples the skeleton cannot read (then it is the only check);
    CONSTRUCTED only the byte cap: for the random source, which writes from the skeleton (an empty array
                line for n - 1 = 0 numbers is legal there but not in a line-count rule).

Mutation reads its size links from the skeleton (`size_links`), random generation draws from it, the model's
decoding grammar (`grammar.py`) and the generator skeleton (`generator_skeleton.py`) are compiled from it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from alphagen.testgen.constraints import Constraint
from alphagen.testgen.structure import Format, learn_format, split_lines, structure_problem
from alphagen.testgen.template import SizeLink, Template, learn_template, read, size_links


class Leniency(Enum):
    """How strictly an input is held to the learned format (see the module docstring)."""

    EXACT = "exact"
    SHAPE = "shape"
    CONSTRUCTED = "constructed"


@dataclass(frozen=True)
class InputFormat:
    """The learned format of a stdio problem's input: skeleton, loose shape rules and the parsed constraints."""

    template: Template | None
    """The skeleton reading the most examples; None when no example could be read as one."""
    shape: Format | None
    """The loose rules every example satisfies; None when there are no non-empty examples."""
    constraints: tuple[Constraint, ...] = ()
    """Parsed from the statement: value ranges for mutation, random generation and the grammar."""

    def links(self, rows: list[list[str]]) -> list[SizeLink] | None:
        """Which scalars of `rows` size what; None when the skeleton does not read `rows`."""
        return size_links(self.template, rows) if self.template is not None else None

    def problem(self, text: str, max_bytes: int, leniency: Leniency) -> str | None:
        """Why `text` is not a well-formed input at this leniency, or None when it is. Total: `text` is a model's
        (or a generator's) output, and whatever fails to read (a 5000-digit number is past int()'s digit limit)
        is a reason to refuse it, never an exception."""
        try:
            return self._problem(text, max_bytes, leniency)
        except Exception as e:  # noqa: BLE001 - any failure to read the text is the text's problem
            return f"unreadable ({type(e).__name__})"

    def _problem(self, text: str, max_bytes: int, leniency: Leniency) -> str | None:
        if len(text) > max_bytes:
            return f"longer than {max_bytes} bytes"
        if leniency is Leniency.CONSTRUCTED:
            return None
        if leniency is Leniency.EXACT and self.template is not None:
            return None if read(self.template, split_lines(text)) is not None else "the skeleton does not read it"
        return structure_problem(self.shape, text, max_bytes) if self.shape is not None else None


def learn_input_format(example_inputs: Sequence[str], constraints: Sequence[Constraint] = ()) -> InputFormat:
    """Learn the format once; every source and check of one problem uses the result."""
    return InputFormat(learn_template(example_inputs), learn_format(example_inputs, constraints), tuple(constraints))
