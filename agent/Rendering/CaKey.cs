using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace NodeAgent.Rendering;

/// <summary>
/// The one mapping from a CA ConfigMap key to a certs.d directory name: <c>host..port</c> becomes
/// <c>host:port</c>, a key without <c>..</c> is a bare host. The result must be a registry host
/// (DNS name or IPv4, optional port 1–65535), so it can never name a path outside certs.d.
/// </summary>
public static class CaKey
{
    private const int MaxLabelLength = 63;
    private const int MaxHostLength = 253;

    public static bool TryMap(string key, [NotNullWhen(true)] out string? directory, [NotNullWhen(false)] out string? reason)
    {
        directory = null;
        var separator = key.IndexOf("..", StringComparison.Ordinal);
        if (separator >= 0 && key.IndexOf("..", separator + 2, StringComparison.Ordinal) >= 0)
        {
            reason = "more than one \"..\" (no registry name contains \"..\")";
            return false;
        }
        var host = separator < 0 ? key : key[..separator];
        var port = separator < 0 ? null : key[(separator + 2)..];
        if (!IsHost(host, out reason))
        {
            return false;
        }
        if (port is not null && !IsPort(port))
        {
            reason = $"the port {GoQuote.Quote(port)} is not a number from 1 to 65535";
            return false;
        }
        directory = port is null ? host : $"{host}:{port}";
        return true;
    }

    private static bool IsHost(string host, [NotNullWhen(false)] out string? reason)
    {
        reason = null;
        if (host.Length == 0)
        {
            reason = "the host is empty";
            return false;
        }
        if (host.Length > MaxHostLength)
        {
            reason = $"the host is longer than {MaxHostLength} characters";
            return false;
        }
        foreach (var label in host.Split('.'))
        {
            if (label.Length is 0 or > MaxLabelLength)
            {
                reason = $"the host {GoQuote.Quote(host)} has an empty or over-long label";
                return false;
            }
            if (label[0] == '-' || label[^1] == '-' || label.Any(c => !char.IsAsciiLetterOrDigit(c) && c != '-'))
            {
                reason = $"the host {GoQuote.Quote(host)} is not a DNS name or IPv4 address (letters, digits and inner '-' only)";
                return false;
            }
        }
        // All-numeric names must be a real IPv4 address, not "999.1" or "1.2.3.4.5".
        if (host.Split('.').All(l => l.All(char.IsAsciiDigit)) && !IsIPv4(host))
        {
            reason = $"the host {GoQuote.Quote(host)} is not a valid IPv4 address";
            return false;
        }
        return true;
    }

    private static bool IsIPv4(string host)
    {
        var parts = host.Split('.');
        return parts.Length == 4 && parts.All(p => p.Length <= 3 && int.Parse(p, CultureInfo.InvariantCulture) <= 255 && (p.Length == 1 || p[0] != '0'));
    }

    private static bool IsPort(string port) =>
        port.Length is > 0 and <= 5 && port.All(char.IsAsciiDigit) && port[0] != '0' &&
        int.Parse(port, CultureInfo.InvariantCulture) is >= 1 and <= 65535;
}
