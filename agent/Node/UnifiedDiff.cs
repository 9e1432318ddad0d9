using System.Globalization;
using System.Text;

namespace NodeAgent.Node;

/// <summary>
/// A unified diff of two versions of a file, as <c>diff -u</c> prints it, with paths relative to
/// the root (<c>a/…</c>, <c>b/…</c>, <c>/dev/null</c> for a missing side).
/// </summary>
public static class UnifiedDiff
{
    private const int Context = 3;

    // Above this many cells the middle of a diff is shown as a whole replacement: still a correct
    // diff, bounded in time and memory, and real changes to these files are far smaller.
    private const long MaxTableCells = 4_000_000;

    public static string Format(string relativePath, byte[]? before, byte[]? after)
    {
        var oldLines = Lines(before);
        var newLines = Lines(after);
        var edits = Edits(oldLines, newLines);
        var sb = new StringBuilder();
        sb.Append("--- ").Append(before is null ? "/dev/null" : "a/" + relativePath).Append('\n');
        sb.Append("+++ ").Append(after is null ? "/dev/null" : "b/" + relativePath).Append('\n');
        foreach (var hunk in Hunks(edits))
        {
            WriteHunk(sb, hunk);
        }
        return sb.ToString();
    }

    /// <summary>
    /// A short form of <see cref="Format"/> for one log line: the hunks without the file header;
    /// a run of more than <see cref="RemovedRun"/> removed lines shortened to its first lines and a
    /// count, so the lines added after it stay in view; at most <paramref name="maxLines"/> lines
    /// (then "… N more lines") of at most <see cref="MaxLineLength"/> characters, joined by a
    /// literal <c>\n</c>. Backslashes and control characters are escaped, so foreign content can
    /// neither break the line nor forge another.
    /// </summary>
    public static string OneLine(string relativePath, byte[]? before, byte[]? after, int maxLines = 20)
    {
        var lines = Shorten(Format(relativePath, before, after).Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(2).ToList());
        var sb = new StringBuilder();
        foreach (var line in lines.Take(maxLines))
        {
            if (sb.Length > 0)
            {
                sb.Append(@"\n");
            }
            AppendEscaped(sb, line.Length > MaxLineLength ? line[..MaxLineLength] + "…" : line);
        }
        if (lines.Count > maxLines)
        {
            sb.Append(CultureInfo.InvariantCulture, $@"\n… {lines.Count - maxLines} more lines");
        }
        return sb.ToString();
    }

    /// <summary>Removed lines in a row that <see cref="OneLine"/> shows before it counts the rest.</summary>
    public const int RemovedRun = 3;

    private static List<string> Shorten(List<string> lines)
    {
        var shown = new List<string>();
        for (var i = 0; i < lines.Count;)
        {
            var run = 0;
            while (i + run < lines.Count && lines[i + run][0] == '-')
            {
                run++;
            }
            if (run > RemovedRun + 1)
            {
                shown.AddRange(lines.GetRange(i, RemovedRun));
                shown.Add(string.Create(CultureInfo.InvariantCulture, $"… {run - RemovedRun} more removed lines"));
                i += run;
                continue;
            }
            shown.Add(lines[i]);
            i++;
        }
        return shown;
    }

    /// <summary>The longest line <see cref="OneLine"/> shows whole.</summary>
    public const int MaxLineLength = 160;

    private static void AppendEscaped(StringBuilder sb, string text)
    {
        foreach (var c in text)
        {
            if (c == '\\')
            {
                sb.Append(@"\\");
            }
            else if (char.IsControl(c) || c is '\u2028' or '\u2029')
            {
                sb.Append(CultureInfo.InvariantCulture, $@"\u{(int)c:x4}");
            }
            else
            {
                sb.Append(c);
            }
        }
    }

    private enum Op
    {
        Keep,
        Delete,
        Insert,
    }

    private readonly record struct Edit(Op Op, string Text, int OldIndex, int NewIndex);

    // Marks a last line without a newline, so "x" and "x\n" compare as different lines, as they
    // are: diff shows the change with a "\ No newline at end of file" note.
    private const char NoNewline = '\uFFFF';

    private static List<string> Lines(byte[]? content)
    {
        if (content is null || content.Length == 0)
        {
            return [];
        }
        var text = Encoding.UTF8.GetString(content);
        var lines = text.Split('\n').ToList();
        if (lines[^1].Length == 0)
        {
            lines.RemoveAt(lines.Count - 1);
        }
        else
        {
            lines[^1] += NoNewline;
        }
        return lines;
    }

    private static List<Edit> Edits(List<string> a, List<string> b)
    {
        var prefix = 0;
        while (prefix < a.Count && prefix < b.Count && a[prefix] == b[prefix])
        {
            prefix++;
        }
        var suffix = 0;
        while (suffix < a.Count - prefix && suffix < b.Count - prefix && a[a.Count - 1 - suffix] == b[b.Count - 1 - suffix])
        {
            suffix++;
        }
        var edits = new List<Edit>();
        for (var i = 0; i < prefix; i++)
        {
            edits.Add(new Edit(Op.Keep, a[i], i, i));
        }
        Middle(a, b, prefix, a.Count - suffix, prefix, b.Count - suffix, edits);
        for (var i = suffix; i > 0; i--)
        {
            edits.Add(new Edit(Op.Keep, a[a.Count - i], a.Count - i, b.Count - i));
        }
        return edits;
    }

    // Longest common subsequence by dynamic programming over the part that differs.
    private static void Middle(List<string> a, List<string> b, int aStart, int aEnd, int bStart, int bEnd, List<Edit> edits)
    {
        var n = aEnd - aStart;
        var m = bEnd - bStart;
        if ((long)n * m > MaxTableCells)
        {
            for (var i = aStart; i < aEnd; i++)
            {
                edits.Add(new Edit(Op.Delete, a[i], i, bStart));
            }
            for (var j = bStart; j < bEnd; j++)
            {
                edits.Add(new Edit(Op.Insert, b[j], aEnd, j));
            }
            return;
        }
        var table = new int[(n + 1) * (m + 1)];
        for (var i = n - 1; i >= 0; i--)
        {
            for (var j = m - 1; j >= 0; j--)
            {
                table[(i * (m + 1)) + j] = a[aStart + i] == b[bStart + j]
                    ? table[((i + 1) * (m + 1)) + j + 1] + 1
                    : Math.Max(table[((i + 1) * (m + 1)) + j], table[(i * (m + 1)) + j + 1]);
            }
        }
        int x = 0, y = 0;
        while (x < n || y < m)
        {
            if (x < n && y < m && a[aStart + x] == b[bStart + y])
            {
                edits.Add(new Edit(Op.Keep, a[aStart + x], aStart + x, bStart + y));
                x++;
                y++;
            }
            // Deletions before insertions where either keeps the diff minimal, as diff -u prints a change.
            else if (x < n && (y == m || table[((x + 1) * (m + 1)) + y] >= table[(x * (m + 1)) + y + 1]))
            {
                edits.Add(new Edit(Op.Delete, a[aStart + x], aStart + x, bStart + y));
                x++;
            }
            else
            {
                edits.Add(new Edit(Op.Insert, b[bStart + y], aStart + x, bStart + y));
                y++;
            }
        }
    }

    private static IEnumerable<List<Edit>> Hunks(List<Edit> edits)
    {
        var changed = edits.Select((e, i) => (e, i)).Where(t => t.e.Op != Op.Keep).Select(t => t.i).ToList();
        var k = 0;
        while (k < changed.Count)
        {
            var start = Math.Max(0, changed[k] - Context);
            var end = changed[k];
            while (k + 1 < changed.Count && changed[k + 1] - end <= (2 * Context) + 1)
            {
                end = changed[++k];
            }
            end = Math.Min(edits.Count - 1, end + Context);
            k++;
            yield return edits.GetRange(start, end - start + 1);
        }
    }

    private static void WriteHunk(StringBuilder sb, List<Edit> hunk)
    {
        var oldLength = hunk.Count(e => e.Op != Op.Insert);
        var newLength = hunk.Count(e => e.Op != Op.Delete);
        var oldStart = hunk[0].OldIndex + (oldLength == 0 ? 0 : 1);
        var newStart = hunk[0].NewIndex + (newLength == 0 ? 0 : 1);
        sb.Append("@@ -").Append(Range(oldStart, oldLength)).Append(" +").Append(Range(newStart, newLength)).Append(" @@\n");
        foreach (var edit in hunk)
        {
            var unterminated = edit.Text.EndsWith(NoNewline);
            sb.Append(edit.Op switch { Op.Keep => ' ', Op.Delete => '-', _ => '+' })
                .Append(unterminated ? edit.Text[..^1] : edit.Text).Append('\n');
            if (unterminated)
            {
                sb.Append("\\ No newline at end of file\n");
            }
        }
    }

    private static string Range(int start, int length) =>
        length == 1
            ? start.ToString(CultureInfo.InvariantCulture)
            : string.Create(CultureInfo.InvariantCulture, $"{start},{length}");
}
