using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A self-signed CA certificate made in-process for one test (ECDSA P-256), with its DER bytes
/// and the exact normalised PEM node-agent is expected to write for it.
/// </summary>
public sealed class ThrowawayCa
{
    private ThrowawayCa(string subject, byte[] der, string privateKeyPem, DateTimeOffset notAfter)
    {
        Subject = subject;
        Der = der;
        PrivateKeyPem = privateKeyPem;
        NotAfter = notAfter;
    }

    public string Subject { get; }

    public byte[] Der { get; }

    /// <summary>The CA's private key as PKCS#8 PEM, to plant where only certificates belong.</summary>
    public string PrivateKeyPem { get; }

    public DateTimeOffset NotAfter { get; }

    /// <summary>The certificate as PEM with 64-character lines and a final newline: what node-agent writes.</summary>
    public string Pem => Normalised(this);

    public string Base64Der => Convert.ToBase64String(Der);

    /// <summary>A CA valid from a day ago for <paramref name="validFor"/> (a year when not given).</summary>
    public static ThrowawayCa Create(string commonName, TimeSpan? validFor = null)
    {
        var now = DateTimeOffset.UtcNow;
        return Create(commonName, now.AddDays(-1), now + (validFor ?? TimeSpan.FromDays(365)));
    }

    /// <summary>A CA whose validity ended <paramref name="ago"/> before now.</summary>
    public static ThrowawayCa Expired(string commonName, TimeSpan ago)
    {
        var notAfter = DateTimeOffset.UtcNow - ago;
        return Create(commonName, notAfter.AddDays(-30), notAfter);
    }

    public static ThrowawayCa Create(string commonName, DateTimeOffset notBefore, DateTimeOffset notAfter)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = $"CN={commonName}";
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        // X.509 times have second precision; truncate so NotAfter matches what the certificate says.
        notAfter = new DateTimeOffset(notAfter.Ticks - (notAfter.Ticks % TimeSpan.TicksPerSecond), TimeSpan.Zero);
        using var certificate = request.CreateSelfSigned(notBefore, notAfter);
        return new ThrowawayCa(subject, certificate.RawData, key.ExportPkcs8PrivateKeyPem(), notAfter);
    }

    /// <summary>The normalised PEM of several certificates, in order.</summary>
    public static string Normalised(params ThrowawayCa[] certificates)
    {
        var sb = new StringBuilder();
        foreach (var certificate in certificates)
        {
            sb.Append("-----BEGIN CERTIFICATE-----\n");
            var base64 = certificate.Base64Der;
            for (var i = 0; i < base64.Length; i += 64)
            {
                sb.Append(base64.AsSpan(i, Math.Min(64, base64.Length - i))).Append('\n');
            }
            sb.Append("-----END CERTIFICATE-----\n");
        }
        return sb.ToString();
    }

    /// <summary>PEM as people paste it: CRLF line ends and 76-character lines, as <c>PemEncoding</c> would not.</summary>
    public string UntidyPem()
    {
        var base64 = Base64Der;
        var sb = new StringBuilder("-----BEGIN CERTIFICATE-----\r\n");
        for (var i = 0; i < base64.Length; i += 76)
        {
            sb.Append(base64.AsSpan(i, Math.Min(76, base64.Length - i))).Append("\r\n");
        }
        return sb.Append("-----END CERTIFICATE-----\r\n").ToString();
    }
}
