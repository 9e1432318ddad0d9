using System.Globalization;
using System.Text;

namespace NodeAgent.Rendering;

/// <summary>
/// Quotes a value the way Go's <c>%q</c> does, so messages match MCO's and no value can break a
/// log line: quotes and backslashes escaped, control and non-printable characters as escapes.
/// </summary>
public static class GoQuote
{
    public static string Quote(string value)
    {
        var sb = new StringBuilder(value.Length + 2);
        sb.Append('"');
        foreach (var rune in value.EnumerateRunes())
        {
            switch (rune.Value)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\a': sb.Append("\\a"); break;
                case '\b': sb.Append("\\b"); break;
                case '\f': sb.Append("\\f"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                case '\v': sb.Append("\\v"); break;
                default:
                    if (rune.Value < 0x20 || rune.Value == 0x7F)
                    {
                        sb.Append("\\x").Append(rune.Value.ToString("x2", CultureInfo.InvariantCulture));
                    }
                    else if (rune.Value == Rune.ReplacementChar.Value || IsPrintable(rune))
                    {
                        sb.Append(rune.ToString());
                    }
                    else if (rune.Value <= 0xFFFF)
                    {
                        sb.Append("\\u").Append(rune.Value.ToString("x4", CultureInfo.InvariantCulture));
                    }
                    else
                    {
                        sb.Append("\\U").Append(rune.Value.ToString("x8", CultureInfo.InvariantCulture));
                    }
                    break;
            }
        }
        sb.Append('"');
        return sb.ToString();
    }

    private static bool IsPrintable(Rune rune)
    {
        var category = Rune.GetUnicodeCategory(rune);
        return category switch
        {
            UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.Surrogate
                or UnicodeCategory.PrivateUse or UnicodeCategory.OtherNotAssigned
                or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator => false,
            UnicodeCategory.SpaceSeparator => rune.Value == ' ',
            _ => true,
        };
    }
}
