namespace NodeAgent.Rendering;

/// <summary>One mirror list as an object states it, with where it came from.</summary>
public sealed record MirrorSetEntry(string Source, IReadOnlyList<string> Mirrors, string Policy, FieldRef Origin)
{
    /// <summary>runtime-utils ignores an entry whose mirrors are empty or only repeat the source.</summary>
    public bool HasRealMirror => Mirrors.Any(m => !string.Equals(m, Source, StringComparison.Ordinal));
}

/// <summary>The merged mirror order for one source within one group (digest or tag).</summary>
public sealed record MergedMirrorSet(string Source, IReadOnlyList<string> Mirrors, bool NeverContactSource, bool CycleBroken);

/// <summary>
/// runtime-utils' merge of several mirror lists for one source: a graph of "try before" edges,
/// sorted by Kahn's algorithm with a FIFO queue fed in byte-ordered batches, cycles broken at the
/// byte-smallest node not yet emitted. The result depends only on the set of lists.
/// </summary>
public static class MirrorSetMerger
{
    public static IReadOnlyList<MergedMirrorSet> Merge(IEnumerable<MirrorSetEntry> entries)
    {
        var listsBySource = new Dictionary<string, List<IReadOnlyList<string>>>(StringComparer.Ordinal);
        var neverContact = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in entries)
        {
            if (!entry.HasRealMirror)
            {
                continue;
            }
            if (!listsBySource.TryGetValue(entry.Source, out var lists))
            {
                lists = [];
                listsBySource[entry.Source] = lists;
            }
            lists.Add(entry.Mirrors);
            if (entry.Policy == Resources.MirrorSourcePolicy.NeverContactSource)
            {
                neverContact.Add(entry.Source);
            }
        }

        var sources = listsBySource.Keys.ToList();
        sources.Sort(ByteOrder.Instance);
        var result = new List<MergedMirrorSet>(sources.Count);
        foreach (var source in sources)
        {
            var lists = listsBySource[source];
            var cycleBroken = false;
            // One list of distinct mirrors makes a single path, which Kahn's algorithm returns
            // as it is; most sources have just one, and the graph costs far more than the copy.
            var sorted = lists.Count == 1 && AllDistinct(lists[0])
                ? [.. lists[0]]
                : SortedByGraph(source, lists, out cycleBroken);
            if (sorted.Count > 0 && sorted[^1] == source)
            {
                // The source is always tried last by containers/image; listing it is redundant.
                sorted.RemoveAt(sorted.Count - 1);
            }
            result.Add(new MergedMirrorSet(source, sorted, neverContact.Contains(source), cycleBroken));
        }
        return result;
    }

    private static List<string> SortedByGraph(string source, List<IReadOnlyList<string>> lists, out bool cycleBroken)
    {
        var graph = new TopoGraph();
        foreach (var mirrors in lists)
        {
            for (var i = 0; i + 1 < mirrors.Count; i++)
            {
                graph.AddEdge(mirrors[i], mirrors[i + 1]);
            }
            if (!mirrors.Contains(source, StringComparer.Ordinal))
            {
                graph.AddEdge(mirrors[^1], source);
            }
        }
        return graph.Sorted(out cycleBroken);
    }

    private static bool AllDistinct(IReadOnlyList<string> mirrors)
    {
        var seen = new HashSet<string>(mirrors.Count, StringComparer.Ordinal);
        foreach (var mirror in mirrors)
        {
            if (!seen.Add(mirror))
            {
                return false;
            }
        }
        return true;
    }

    private sealed class TopoGraph
    {
        private readonly Dictionary<string, SortedSet<string>> _successors = new(StringComparer.Ordinal);
        private readonly Dictionary<string, int> _incoming = new(StringComparer.Ordinal);

        public void AddEdge(string from, string to)
        {
            AddNode(from);
            AddNode(to);
            if (_successors[from].Add(to))
            {
                _incoming[to]++;
            }
        }

        private void AddNode(string node)
        {
            if (!_successors.ContainsKey(node))
            {
                _successors[node] = new SortedSet<string>(ByteOrder.Instance);
                _incoming[node] = 0;
            }
        }

        public List<string> Sorted(out bool cycleBroken)
        {
            cycleBroken = false;
            var nodes = _successors.Keys.ToList();
            nodes.Sort(ByteOrder.Instance);
            var incoming = new Dictionary<string, int>(_incoming, StringComparer.Ordinal);
            var emitted = new HashSet<string>(StringComparer.Ordinal);
            var queue = new Queue<string>(nodes.Where(n => incoming[n] == 0));
            var result = new List<string>(nodes.Count);
            var smallestCandidate = 0;
            while (result.Count < nodes.Count)
            {
                string next;
                if (queue.Count > 0)
                {
                    next = queue.Dequeue();
                }
                else
                {
                    // Contradictory orders: take the byte-smallest node not yet emitted.
                    while (emitted.Contains(nodes[smallestCandidate]))
                    {
                        smallestCandidate++;
                    }
                    next = nodes[smallestCandidate];
                    cycleBroken = true;
                }
                emitted.Add(next);
                result.Add(next);
                var ready = new List<string>();
                foreach (var successor in _successors[next])
                {
                    incoming[successor]--;
                    if (incoming[successor] == 0 && !emitted.Contains(successor))
                    {
                        ready.Add(successor);
                    }
                }
                // _successors is a SortedSet in byte order, so the batch is already sorted.
                foreach (var node in ready)
                {
                    queue.Enqueue(node);
                }
            }
            return result;
        }
    }
}
