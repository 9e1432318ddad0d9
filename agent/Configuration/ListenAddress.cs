using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NodeAgent.Rendering;

namespace NodeAgent.Configuration;

/// <summary>
/// The <c>Listen</c> setting, <c>ADDR:PORT</c>: an IPv4 address, or an IPv6 address in brackets,
/// and a port (0 picks a free one). Host names are refused: the daemon binds one socket, and a
/// name that resolves differently on each node would make that socket a guess.
/// </summary>
public static class ListenAddress
{
    private const string Examples = "for example 127.0.0.1:9100, 0.0.0.0:9100 or [::1]:9100";

    /// <summary>Parses <paramref name="text"/>, or says what is wrong with it, naming the value.</summary>
    public static bool TryParse(
        string text,
        [NotNullWhen(true)] out IPEndPoint? endPoint,
        [NotNullWhen(false)] out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        endPoint = null;
        var why = Check(text, out var address, out var port);
        if (why is not null)
        {
            problem = $"{GoQuote.Quote(text)} is not ADDR:PORT: {why}; {Examples}";
            return false;
        }
        endPoint = new IPEndPoint(address!, port);
        problem = null;
        return true;
    }

    private static string? Check(string text, out IPAddress? address, out int port)
    {
        address = null;
        port = 0;
        string host, portText;
        if (text.StartsWith('['))
        {
            var close = text.IndexOf("]:", StringComparison.Ordinal);
            if (close < 0)
            {
                return "a bracketed IPv6 address must be followed by :PORT";
            }
            host = text[1..close];
            portText = text[(close + 2)..];
            if (!IPAddress.TryParse(host, out address) || address.AddressFamily != AddressFamily.InterNetworkV6)
            {
                return $"{GoQuote.Quote(host)} is not an IPv6 address";
            }
        }
        else
        {
            var colon = text.LastIndexOf(':');
            if (colon < 0)
            {
                return "the port is missing";
            }
            host = text[..colon];
            portText = text[(colon + 1)..];
            if (host.Contains(':', StringComparison.Ordinal))
            {
                return "an IPv6 address must be written in brackets";
            }
            // IPAddress.TryParse also takes shorthand such as "127.1" or "10"; only the dotted
            // quad is unambiguous to a reader.
            if (host.Split('.') is not { Length: 4 } parts ||
                parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)) ||
                !IPAddress.TryParse(host, out address))
            {
                return host.Length == 0
                    ? "the address is missing (0.0.0.0 listens on every IPv4 address)"
                    : $"{GoQuote.Quote(host)} is not an IPv4 address (host names are not accepted)";
            }
        }
        if (portText.Length is 0 or > 5 || !portText.All(char.IsAsciiDigit) ||
            !int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > IPEndPoint.MaxPort)
        {
            return $"the port {GoQuote.Quote(portText)} is not a number from 0 to 65535";
        }
        return null;
    }
}
