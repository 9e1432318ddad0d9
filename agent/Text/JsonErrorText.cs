using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace NodeAgent.Text;

/// <summary>
/// A <see cref="JsonException"/> as a person reads it: <c>FILE:LINE: invalid JSON: reason</c>
/// with a 1-based line and a plain reason, instead of System.Text.Json's 0-based
/// <c>LineNumber: 0 | BytePositionInLine: 12</c> and its advice to change reader options the
/// user has no say in. For every JSON file node-agent reads (<c>--config</c>, manifests).
/// </summary>
public static partial class JsonErrorText
{
    /// <summary><c>FILE:LINE: invalid JSON: reason</c>, or <c>FILE: invalid JSON: reason</c> when the line is not known.</summary>
    /// <param name="text">The text that was parsed, when at hand: it places a trailing comma on its own line.</param>
    public static string Describe(string file, JsonException exception, string? text = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var line = Line(exception, text);
        return line is null ? $"{file}: invalid JSON: {Reason(exception)}" : $"{file}:{line.Value.ToString(CultureInfo.InvariantCulture)}: invalid JSON: {Reason(exception)}";
    }

    /// <summary>
    /// The 1-based line of the problem, or null when the reader did not say. A trailing comma is
    /// placed on the line of the comma, not of the bracket after it.
    /// </summary>
    public static long? Line(JsonException exception, string? text = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (exception.LineNumber is not { } zeroBased)
        {
            return null;
        }
        if (text is not null && IsTrailingComma(exception.Message) && exception.BytePositionInLine is { } bytePosition &&
            CommaLine(text, zeroBased, bytePosition) is { } commaLine)
        {
            return commaLine + 1;
        }
        return zeroBased + 1;
    }

    /// <summary>What is wrong, in plain words, without positions or reader options.</summary>
    public static string Reason(JsonException exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var message = Position().Replace(exception.Message, "").Trim();
        if (IsTrailingComma(message))
        {
            return message.Contains("array", StringComparison.Ordinal)
                ? "a trailing comma after the last element of a list"
                : "a trailing comma after the last property";
        }
        if (Quoted().Match(message) is { Success: true } quoted)
        {
            var token = quoted.Groups["token"].Value;
            var rest = quoted.Groups["rest"].Value;
            var inString = rest.Contains("JSON string", StringComparison.Ordinal);
            if (token == "/" && !inString)
            {
                return "'/' outside a string: JSON has no comments, and a string needs double quotes";
            }
            if (token == "'" && !inString)
            {
                return "a single quote outside a string: JSON strings use double quotes";
            }
            if (rest.StartsWith("is an invalid start of a value", StringComparison.Ordinal))
            {
                return token switch
                {
                    "}" or "]" => $"a value is missing before '{token}'",
                    "T" or "F" or "N" => $"'{token}' where a value belongs: true, false and null are lower case, and a string needs double quotes",
                    _ => $"'{token}' where a value belongs: a string needs double quotes",
                };
            }
            if (rest.StartsWith("is invalid after a value", StringComparison.Ordinal))
            {
                return $"'{token}' after a value, where ',' or a closing '}}' or ']' belongs (a comma missing?)";
            }
            if (rest.StartsWith("is invalid after a property name", StringComparison.Ordinal))
            {
                return $"'{token}' after a property name, where ':' belongs";
            }
            if (rest.StartsWith("is an invalid start of a property name", StringComparison.Ordinal))
            {
                return $"'{token}' where a property name belongs: property names are strings in double quotes";
            }
            if (rest.StartsWith("is invalid within a JSON string", StringComparison.Ordinal))
            {
                return token == "0x0A" ? "a line break inside a string: write it as \\n" : $"the control character {token} inside a string: escape it";
            }
            if (rest.StartsWith("is an invalid escapable character", StringComparison.Ordinal))
            {
                return $"'\\{token}' is not an escape JSON knows (\\\\ \\\" \\/ \\b \\f \\n \\r \\t \\uXXXX)";
            }
            if (rest.StartsWith("is not a hex digit", StringComparison.Ordinal))
            {
                return $"'{token}' in a \\u escape, which takes four hex digits";
            }
            if (Literal().Match(rest) is { Success: true } literal)
            {
                return $"'{token}' is not a JSON value (did you mean {literal.Groups["literal"].Value}? true, false and null are lower case)";
            }
            if (rest.StartsWith("is invalid after a single JSON value", StringComparison.Ordinal))
            {
                return $"'{token}' after the end of the JSON value: a file holds one value";
            }
            if (rest.StartsWith("is invalid without a matching open", StringComparison.Ordinal))
            {
                return $"'{token}' closes nothing: no '{{' or '[' is open";
            }
            if (rest.Contains("number", StringComparison.Ordinal))
            {
                return $"an invalid number at '{token}'";
            }
        }
        if (message.StartsWith("Expected depth to be zero", StringComparison.Ordinal))
        {
            return "the file ends inside an object or a list: a '}' or ']' is missing";
        }
        if (message.Contains("does not contain any", StringComparison.Ordinal))
        {
            return "no JSON value: the file is empty";
        }
        if (message.StartsWith("Expected end of string", StringComparison.Ordinal))
        {
            return "a string is not closed: a '\"' is missing";
        }
        if (message.StartsWith("Expected end of comment", StringComparison.Ordinal))
        {
            return "a comment is not closed (JSON has no comments)";
        }
        if (message.Contains("reached end of data", StringComparison.Ordinal))
        {
            return "the file ends where a value belongs";
        }
        if (Depth().Match(message) is { Success: true } depth)
        {
            return $"nested deeper than {depth.Groups["depth"].Value} levels";
        }
        if (message.StartsWith("Invalid leading zero", StringComparison.Ordinal))
        {
            return "a number with a leading zero";
        }
        // Anything else: the reader's own words, less what only a programmer could act on.
        var sentences = message.Split(". ", StringSplitOptions.RemoveEmptyEntries)
            .Where(s => !s.Contains("reader options", StringComparison.OrdinalIgnoreCase) && !s.Contains("isFinalBlock", StringComparison.Ordinal));
        var plain = string.Join(". ", sentences).TrimEnd('.', ' ');
        return plain.Length == 0 ? "not valid JSON" : plain;
    }

    private static bool IsTrailingComma(string message) => message.Contains("trailing comma", StringComparison.Ordinal);

    // The reader stops at the bracket after the comma; the comma is the last thing before it
    // that is not white space, possibly lines earlier.
    private static long? CommaLine(string text, long zeroBasedLine, long bytePosition)
    {
        var index = 0;
        for (var line = 0L; line < zeroBasedLine; line++)
        {
            var next = text.IndexOf('\n', index);
            if (next < 0)
            {
                return null;
            }
            index = next + 1;
        }
        var bytes = 0L;
        while (index < text.Length && bytes < bytePosition && text[index] != '\n')
        {
            bytes += char.IsSurrogate(text[index]) ? 2 : Encoding.UTF8.GetByteCount(text.AsSpan(index, 1));
            index++;
        }
        for (var i = Math.Min(index, text.Length) - 1; i >= 0; i--)
        {
            if (char.IsWhiteSpace(text[i]))
            {
                continue;
            }
            return text[i] == ',' ? text.AsSpan(0, i).Count('\n') : null;
        }
        return null;
    }

    [GeneratedRegex(@"\s*(Path: \S*\s*\|\s*)?LineNumber: \d+ \| BytePositionInLine: \d+\.?\s*$")]
    private static partial Regex Position();

    [GeneratedRegex(@"^'(?<token>.*?)' (?<rest>(is|cannot) .*)$", RegexOptions.Singleline)]
    private static partial Regex Quoted();

    [GeneratedRegex(@"Expected the literal '(?<literal>\w+)'")]
    private static partial Regex Literal();

    [GeneratedRegex(@"maximum configured depth of (?<depth>\d+)")]
    private static partial Regex Depth();
}
