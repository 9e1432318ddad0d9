namespace NodeAgent.Rendering;

/// <summary>
/// Orders strings as Go's <c>sort.Strings</c> does: by UTF-8 bytes, which is code point order.
/// Plain ordinal comparison of UTF-16 differs for characters above U+E000 versus surrogate pairs.
/// </summary>
public sealed class ByteOrder : IComparer<string>
{
    public static readonly ByteOrder Instance = new();

    private ByteOrder()
    {
    }

    public int Compare(string? x, string? y)
    {
        if (ReferenceEquals(x, y))
        {
            return 0;
        }
        if (x is null)
        {
            return -1;
        }
        if (y is null)
        {
            return 1;
        }
        var length = Math.Min(x.Length, y.Length);
        for (var i = 0; i < length; i++)
        {
            var a = x[i];
            var b = y[i];
            if (a != b)
            {
                return CodePointRank(a) - CodePointRank(b);
            }
        }
        return x.Length - y.Length;
    }

    // Surrogates (supplementary planes) must sort after U+E000..U+FFFF, as their UTF-8 bytes do.
    private static int CodePointRank(char c) => c switch
    {
        >= '\uE000' => c - 0x800,
        >= '\uD800' => c + 0x2000,
        _ => c,
    };
}
