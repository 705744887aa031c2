"""A fixed competitive-programming statement (about 300 tokens) so every benchmark run samples the same
prompt."""

STATEMENT = """\
Polycarp is preparing a programming contest and has n tasks, numbered from 1 to n. The i-th task has a \
difficulty a_i. Polycarp wants to choose a non-empty segment of consecutive tasks l, l+1, ..., r such \
that the \
difficulties on it are strictly increasing, and the sum of the difficulties on the segment does not exceed s.

Among all such segments Polycarp wants the longest one. If several segments have the same maximum length, he \
wants the one with the smallest sum of difficulties. Help him find the length and the sum of the best \
segment, \
or report that no segment exists.

Input

The first line contains a single integer t (1 <= t <= 10^4), the number of test cases. Each test case \
consists \
of two lines. The first line contains two integers n and s (1 <= n <= 2 * 10^5, 1 <= s <= 10^18). The \
second line \
contains n integers a_1, a_2, ..., a_n (1 <= a_i <= 10^9). The sum of n over all test cases does not exceed \
2 * 10^5.

Output

For each test case print two integers: the length of the best segment and its sum. If no segment \
satisfies the \
conditions, print -1 -1 instead.

Example

Input
3
5 10
1 2 3 2 5
3 1
2 3 4
4 100
5 4 3 2

Output
3 6
-1 -1
1 2

Note

In the first test case the segment [1, 2, 3] has length 3 and sum 6, which does not exceed 10.
"""

SYSTEM = (
    "You are an expert competitive programmer. Answer with one complete Python 3 program in a code block."
)


def benchmark_prompt(tokenizer: object) -> str:
    """The chat-formatted prompt (statement + an opening code fence), ready for sampling."""
    messages = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": STATEMENT}]
    text = tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)  # type: ignore[attr-defined]
    # Opening the fence ourselves makes the closing ``` the natural end of the program (our stop string).
    return str(text) + "```python\n"
