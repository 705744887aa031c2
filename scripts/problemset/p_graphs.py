"""Graph problems: grid BFS, connected components, bipartiteness, BFS distances."""

from __future__ import annotations

import random

from spec import ProblemSpec, dedent

# --- maze-shortest-path ------------------------------------------------------------------------------------


def _maze_input(rows: list[str]) -> str:
    return f"{len(rows)} {len(rows[0])}\n" + "\n".join(rows) + "\n"


def _random_maze(rng: random.Random, n: int, m: int, wall: float) -> list[str]:
    g = [["#" if rng.random() < wall else "." for _ in range(m)] for _ in range(n)]
    cells = rng.sample(range(n * m), 2)
    g[cells[0] // m][cells[0] % m] = "S"
    g[cells[1] // m][cells[1] % m] = "T"
    return ["".join(r) for r in g]


def _snake(n: int, m: int) -> list[str]:
    """A serpentine corridor: the path is as long as possible (about n*m/2 steps)."""
    g = [["." for _ in range(m)] for _ in range(n)]
    for i in range(1, n, 2):
        for j in range(m):
            g[i][j] = "#"
        g[i][m - 1 if i % 4 == 1 else 0] = "."
    g[0][0] = "S"
    g[n - 1][m - 1 if (n - 1) % 4 == 0 else 0] = "T"
    return ["".join(r) for r in g]


def _maze_private(rng: random.Random) -> list[str]:
    cases = [
        _maze_input(["ST"]),
        _maze_input(["S", "#", "T"]),  # unreachable: -1
        _maze_input(["S#T"]),
        _maze_input(["S..", "##.", "T.."]),
        _maze_input(["T..", "...", "..S"]),
    ]
    for _ in range(5):
        cases.append(_maze_input(_random_maze(rng, rng.randint(1, 7), rng.randint(2, 7), 0.3)))
    cases.append(_maze_input(_snake(299, 300)))
    cases.append(_maze_input(_random_maze(rng, 300, 300, 0.3)))
    big = _random_maze(rng, 300, 300, 0.0)
    cases.append(_maze_input(big))
    return cases


MAZE_SHORTEST_PATH = ProblemSpec(
    name="maze-shortest-path",
    statement=dedent("""
        A maze is an n x m grid. Each cell is a wall '#', a free cell '.', the start 'S' or the exit 'T'
        (exactly one of each; both are free). In one step you move to a free cell sharing a side with your
        current cell. Find the minimum number of steps from S to T, or report that T cannot be reached.

        Input
        The first line contains two integers n and m.
        Each of the next n lines contains a string of m characters from '#', '.', 'S', 'T'.

        Output
        Print the minimum number of steps, or -1 if the exit is unreachable.

        Constraints
        1 <= n, m <= 300
        n * m >= 2
    """),
    rating=1400,
    tags=("graphs", "shortest paths", "bfs"),
    solution=dedent("""
        import sys
        from collections import deque
        data = sys.stdin.read().split()
        n, m = int(data[0]), int(data[1])
        g = "".join(data[2:2 + n])
        s, t = g.index("S"), g.index("T")
        dist = [-1] * (n * m)
        dist[s] = 0
        dq = deque([s])
        while dq:
            v = dq.popleft()
            if v == t:
                break
            r, c = divmod(v, m)
            d = dist[v] + 1
            for u, ok in ((v - m, r > 0), (v + m, r < n - 1), (v - 1, c > 0), (v + 1, c < m - 1)):
                if ok and dist[u] < 0 and g[u] != "#":
                    dist[u] = d
                    dq.append(u)
        print(dist[t])
    """),
    brute=dedent("""
        n, m = map(int, input().split())
        g = [input().strip() for _ in range(n)]
        INF = 10**9
        dist = [[INF] * m for _ in range(n)]
        for i in range(n):
            for j in range(m):
                if g[i][j] == "S":
                    dist[i][j] = 0
        changed = True
        while changed:
            changed = False
            for i in range(n):
                for j in range(m):
                    if g[i][j] == "#":
                        continue
                    for a, b in ((i - 1, j), (i + 1, j), (i, j - 1), (i, j + 1)):
                        if 0 <= a < n and 0 <= b < m and dist[a][b] + 1 < dist[i][j]:
                            dist[i][j] = dist[a][b] + 1
                            changed = True
        for i in range(n):
            for j in range(m):
                if g[i][j] == "T":
                    print(dist[i][j] if dist[i][j] < INF else -1)
    """),
    public=("3 4\nS.#.\n.##T\n....\n", "2 2\nS#\n#T\n"),
    private=_maze_private,
    validator=dedent("""
        n, m = ints(2, 1, 300)
        if n * m < 2:
            fail("need n * m >= 2")
        g = "".join(word(".#ST", m, m) for _ in range(n))
        if g.count("S") != 1 or g.count("T") != 1:
            fail("need exactly one S and one T")
        done()
    """),
)

# --- connected-components ----------------------------------------------------------------------------------


def _edges_input(n: int, edges: list[tuple[int, int]]) -> str:
    return f"{n} {len(edges)}\n" + "".join(f"{u} {v}\n" for u, v in edges)


def _random_edges(rng: random.Random, n: int, m: int) -> list[tuple[int, int]]:
    return [(rng.randint(1, n), rng.randint(1, n)) for _ in range(m)]


def _cc_private(rng: random.Random) -> list[str]:
    cases = [
        _edges_input(1, []),
        _edges_input(20000, []),  # no roads: every town is its own component
        _edges_input(3, [(1, 1), (2, 2)]),  # self-loops join nothing
        _edges_input(2, [(1, 2), (2, 1), (1, 2)]),
        _edges_input(5, [(1, 2), (3, 4)]),
    ]
    for _ in range(5):
        n = rng.randint(1, 12)
        cases.append(_edges_input(n, _random_edges(rng, n, rng.randint(0, 10))))
    cases.append(_edges_input(20000, _random_edges(rng, 20000, 10000)))
    cases.append(_edges_input(10001, [(i, i + 1) for i in range(1, 10001)]))  # one long path
    cases.append(_edges_input(12000, _random_edges(rng, 12000, 10000)))
    return cases


CONNECTED_COMPONENTS = ProblemSpec(
    name="connected-components",
    statement=dedent("""
        A kingdom has n towns numbered 1 to n and m two-way roads. A road may connect a town to itself, and
        two towns may be joined by several roads. A group of towns is a region if any two of its towns are
        joined by a chain of roads and no town outside the group is joined to it. How many regions are there?

        Input
        The first line contains two integers n and m.
        Each of the next m lines contains two integers u and v: a road between towns u and v.

        Output
        Print one integer: the number of regions (connected components).

        Constraints
        1 <= n <= 20000
        0 <= m <= 10000
        1 <= u, v <= n
    """),
    rating=1200,
    tags=("graphs", "dsu", "dfs and similar"),
    solution=dedent("""
        import sys
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, m = data[0], data[1]
        parent = list(range(n + 1))

        def find(x):
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        comps = n
        for i in range(m):
            a, b = find(data[2 + 2 * i]), find(data[3 + 2 * i])
            if a != b:
                parent[a] = b
                comps -= 1
        print(comps)
    """),
    brute=dedent("""
        n, m = map(int, input().split())
        label = list(range(n + 1))
        edges = [tuple(map(int, input().split())) for _ in range(m)]
        changed = True
        while changed:
            changed = False
            for u, v in edges:
                low = min(label[u], label[v])
                if label[u] != low or label[v] != low:
                    label[u] = label[v] = low
                    changed = True
        print(len(set(label[1:])))
    """),
    public=("6 4\n1 2\n2 3\n4 5\n3 1\n", "3 0\n"),
    private=_cc_private,
    validator=dedent("""
        n, m = ints(2, 0, 20000)
        if n < 1 or m > 10000:
            fail("n or m out of range")
        for _ in range(m):
            ints(2, 1, n)
        done()
    """),
)

# --- bipartite-check ---------------------------------------------------------------------------------------


def _graphs_input(graphs: list[tuple[int, list[tuple[int, int]]]]) -> str:
    return f"{len(graphs)}\n" + "".join(_edges_input(n, e) for n, e in graphs)


def _bip_private(rng: random.Random) -> list[str]:
    cases = [
        _graphs_input([(1, []), (1, [(1, 1)])]),  # a self-loop is an odd cycle
        _graphs_input([(2, [(1, 2), (1, 2)]), (3, [(1, 2), (2, 3), (3, 1)])]),
        _graphs_input([(6, [(1, 2), (4, 5), (5, 6), (6, 4)])]),  # the odd cycle is not in vertex 1's part
        _graphs_input([(4, [(1, 2), (2, 3), (3, 4), (4, 1)])]),
    ]
    for _ in range(6):
        graphs = []
        for _ in range(rng.randint(1, 8)):
            n = rng.randint(1, 9)
            graphs.append((n, _random_edges(rng, n, rng.randint(0, 6))))
        cases.append(_graphs_input(graphs))
    # Large: a random bipartite graph, the same plus one odd edge, and many small graphs.
    n = 20000
    left = list(range(1, n + 1))
    rng.shuffle(left)
    side = {v: i % 2 for i, v in enumerate(left)}
    a_side = [v for v in left if side[v] == 0]
    b_side = [v for v in left if side[v] == 1]
    edges = [(rng.choice(a_side), rng.choice(b_side)) for _ in range(9999)]
    cases.append(_graphs_input([(n, edges)]))
    cases.append(_graphs_input([(n, edges + [(a_side[0], a_side[1])])]))
    many = []
    for _ in range(1500):
        k = rng.randint(1, 12)
        many.append((k, _random_edges(rng, k, rng.randint(0, 6))))
    cases.append(_graphs_input(many))
    return cases


BIPARTITE_CHECK = ProblemSpec(
    name="bipartite-check",
    statement=dedent("""
        A teacher wants to split a class into two teams so that no two students who quarrelled end up in the
        same team. Students are vertices 1..n of an undirected graph and quarrels are its edges (an edge may
        join a vertex to itself, and may repeat). Decide whether such a split exists, that is, whether the
        graph is bipartite. Either team may be empty.

        Input
        The first line contains an integer t, the number of test cases.
        Each test case starts with a line with two integers n and m, followed by m lines with two integers u
        and v each: an edge between u and v.

        Output
        For each test case print YES if the graph is bipartite and NO otherwise, one per line.

        Constraints
        1 <= t <= 2000
        1 <= n, and the sum of n over all test cases does not exceed 20000
        0 <= m, and the sum of m over all test cases does not exceed 10000
        1 <= u, v <= n
    """),
    rating=1400,
    tags=("graphs", "bfs", "dfs and similar"),
    solution=dedent("""
        import sys
        from collections import deque
        data = list(map(int, sys.stdin.buffer.read().split()))
        pos = 1
        out = []
        for _ in range(data[0]):
            n, m = data[pos], data[pos + 1]
            pos += 2
            adj = [[] for _ in range(n + 1)]
            ok = True
            for _ in range(m):
                u, v = data[pos], data[pos + 1]
                pos += 2
                adj[u].append(v)
                adj[v].append(u)
            color = [-1] * (n + 1)
            for s in range(1, n + 1):
                if color[s] >= 0 or not ok:
                    continue
                color[s] = 0
                dq = deque([s])
                while dq and ok:
                    v = dq.popleft()
                    for u in adj[v]:
                        if color[u] < 0:
                            color[u] = color[v] ^ 1
                            dq.append(u)
                        elif color[u] == color[v]:
                            ok = False
                            break
            out.append("YES" if ok else "NO")
        print("\\n".join(out))
    """),
    brute=dedent("""
        import itertools
        t = int(input())
        for _ in range(t):
            n, m = map(int, input().split())
            edges = [tuple(map(int, input().split())) for _ in range(m)]
            ok = any(all(c[u - 1] != c[v - 1] for u, v in edges) for c in itertools.product((0, 1), repeat=n))
            print("YES" if ok else "NO")
    """),
    public=("2\n3 3\n1 2\n2 3\n3 1\n4 3\n1 2\n2 3\n3 4\n",),
    private=_bip_private,
    validator=dedent("""
        (t,) = ints(1, 1, 2000)
        sum_n = sum_m = 0
        for _ in range(t):
            n, m = ints(2, 0, 20000)
            if n < 1:
                fail("n must be >= 1")
            sum_n += n
            sum_m += m
            if sum_n > 20000 or sum_m > 10000:
                fail("sum of n or m too large")
            for _ in range(m):
                ints(2, 1, n)
        done()
    """),
    brute_max_chars=600,
)

# --- bfs-distances -----------------------------------------------------------------------------------------


def _dist_private(rng: random.Random) -> list[str]:
    cases = [
        _edges_input(1, []),
        _edges_input(3, []),  # nothing reachable: -1 for the others
        _edges_input(2, [(2, 2)]),
        _edges_input(4, [(1, 2), (2, 3), (3, 4), (1, 4)]),
        _edges_input(5, [(4, 5), (2, 1)]),
    ]
    for _ in range(5):
        n = rng.randint(1, 12)
        cases.append(_edges_input(n, _random_edges(rng, n, rng.randint(0, 14))))
    cases.append(_edges_input(10001, [(i, i + 1) for i in range(1, 10001)]))
    cases.append(_edges_input(20000, _random_edges(rng, 20000, 10000)))
    cases.append(_edges_input(5000, _random_edges(rng, 5000, 10000)))
    return cases


BFS_DISTANCES = ProblemSpec(
    name="bfs-distances",
    statement=dedent("""
        A city has n intersections numbered 1 to n, joined by m two-way streets of equal length. A courier
        starts at intersection 1. For every intersection, find the minimum number of streets the courier must
        walk along to get there.

        Input
        The first line contains two integers n and m.
        Each of the next m lines contains two integers u and v: a street between u and v (a street may join an
        intersection to itself, and several streets may join the same pair).

        Output
        Print n integers separated by spaces: the i-th is the minimum number of streets from intersection 1 to
        intersection i, or -1 if intersection i cannot be reached. The first number is always 0.

        Constraints
        1 <= n <= 20000
        0 <= m <= 10000
        1 <= u, v <= n
    """),
    rating=1300,
    tags=("graphs", "bfs", "shortest paths"),
    solution=dedent("""
        import sys
        from collections import deque
        data = list(map(int, sys.stdin.buffer.read().split()))
        n, m = data[0], data[1]
        adj = [[] for _ in range(n + 1)]
        for i in range(m):
            u, v = data[2 + 2 * i], data[3 + 2 * i]
            adj[u].append(v)
            adj[v].append(u)
        dist = [-1] * (n + 1)
        dist[1] = 0
        dq = deque([1])
        while dq:
            v = dq.popleft()
            for u in adj[v]:
                if dist[u] < 0:
                    dist[u] = dist[v] + 1
                    dq.append(u)
        print(" ".join(map(str, dist[1:])))
    """),
    brute=dedent("""
        n, m = map(int, input().split())
        INF = 10**9
        d = [[INF] * (n + 1) for _ in range(n + 1)]
        for i in range(n + 1):
            d[i][i] = 0
        for _ in range(m):
            u, v = map(int, input().split())
            if u != v:
                d[u][v] = d[v][u] = 1
        for k in range(1, n + 1):
            for i in range(1, n + 1):
                for j in range(1, n + 1):
                    if d[i][k] + d[k][j] < d[i][j]:
                        d[i][j] = d[i][k] + d[k][j]
        print(*[x if x < INF else -1 for x in d[1][1:]])
    """),
    public=("5 4\n1 2\n2 3\n1 3\n4 5\n",),
    private=_dist_private,
    validator=dedent("""
        n, m = ints(2, 0, 20000)
        if n < 1 or m > 10000:
            fail("n or m out of range")
        for _ in range(m):
            ints(2, 1, n)
        done()
    """),
    brute_max_chars=200,
)

SPECS = [MAZE_SHORTEST_PATH, CONNECTED_COMPONENTS, BIPARTITE_CHECK, BFS_DISTANCES]
