using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NodeAgent.Rendering;

/// <summary>One parsed CA certificate: its DER bytes and what a person needs to know about it.</summary>
public sealed record CaCertificate(byte[] Der, string Subject, DateTimeOffset NotAfter);

/// <summary>
/// Reads a CA value (PEM text, DER, or either base64-encoded, as MCO accepts in <c>data</c>) into
/// certificates, and writes them back as normalised PEM: certificates only, in order, without
/// duplicates, keys or other text.
/// </summary>
public static class CaCertificates
{
    private const string Begin = "-----BEGIN CERTIFICATE-----";
    private const string End = "-----END CERTIFICATE-----";

    /// <summary>The certificates in <paramref name="value"/>; empty when there is none that parses.</summary>
    public static IReadOnlyList<CaCertificate> Parse(byte[] value)
    {
        var text = Encoding.UTF8.GetString(value);
        if (text.Contains(Begin, StringComparison.Ordinal))
        {
            return FromPem(text);
        }
        // MCO decodes a data value that is base64; it may hold PEM or DER.
        if (TryBase64(text, out var decoded))
        {
            var inner = Encoding.UTF8.GetString(decoded);
            return inner.Contains(Begin, StringComparison.Ordinal) ? FromPem(inner) : FromDer(decoded);
        }
        return FromDer(value);
    }

    /// <summary>
    /// A chain for <paramref name="leaf"/> that must end at one of <paramref name="roots"/> and at
    /// nothing else, with what the server presented as intermediates; revocation is not checked
    /// (private CAs publish no CRL). The caller disposes the chain.
    /// </summary>
    public static X509Chain ChainToRoots(X509Certificate2 leaf, X509Chain? presented, X509Certificate2Collection roots, out bool valid)
    {
        var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(roots);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        foreach (var element in presented?.ChainElements ?? (IEnumerable<X509ChainElement>)[])
        {
            chain.ChainPolicy.ExtraStore.Add(element.Certificate);
        }
        valid = chain.Build(leaf);
        return chain;
    }

    public static byte[] ToPem(IEnumerable<CaCertificate> certificates)
    {
        var sb = new StringBuilder();
        foreach (var certificate in certificates)
        {
            sb.Append(Begin).Append('\n');
            var base64 = Convert.ToBase64String(certificate.Der);
            for (var i = 0; i < base64.Length; i += 64)
            {
                sb.Append(base64.AsSpan(i, Math.Min(64, base64.Length - i))).Append('\n');
            }
            sb.Append(End).Append('\n');
        }
        return Encoding.ASCII.GetBytes(sb.ToString());
    }

    private static List<CaCertificate> FromPem(string text)
    {
        var certificates = new List<CaCertificate>();
        var at = 0;
        while ((at = text.IndexOf(Begin, at, StringComparison.Ordinal)) >= 0)
        {
            var end = text.IndexOf(End, at, StringComparison.Ordinal);
            var next = text.IndexOf(Begin, at + Begin.Length, StringComparison.Ordinal);
            if (end < 0)
            {
                break; // A truncated last block: whatever parsed before it still counts.
            }
            if (next >= 0 && next < end)
            {
                at = next; // A truncated block: its END belongs to the next certificate.
                continue;
            }
            var body = text[(at + Begin.Length)..end];
            if (TryBase64(body, out var der))
            {
                certificates.AddRange(FromDer(der));
            }
            at = end + End.Length;
        }
        return Distinct(certificates);
    }

    private static List<CaCertificate> FromDer(byte[] der)
    {
        try
        {
            using var certificate = X509CertificateLoader.LoadCertificate(der);
            return [new CaCertificate(certificate.RawData, certificate.Subject, certificate.NotAfter.ToUniversalTime())];
        }
        catch (CryptographicException)
        {
            return [];
        }
    }

    private static bool TryBase64(string text, out byte[] bytes)
    {
        var compact = new string(text.Where(c => !char.IsWhiteSpace(c)).ToArray());
        bytes = [];
        if (compact.Length == 0 || compact.Length % 4 != 0)
        {
            return false;
        }
        var buffer = new byte[compact.Length / 4 * 3];
        if (!Convert.TryFromBase64String(compact, buffer, out var written))
        {
            return false;
        }
        bytes = buffer[..written];
        return true;
    }

    private static List<CaCertificate> Distinct(List<CaCertificate> certificates)
    {
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return certificates.Where(c => seen.Add(Convert.ToBase64String(c.Der))).ToList();
    }
}
