using System.Globalization;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using NodeAgent.Consumer;
using NodeAgent.Node;
using NodeAgent.Rendering;

namespace NodeAgent.Explain;

/// <summary>
/// One TLS handshake with a registry endpoint, trusting what containers/image would trust there:
/// the system roots plus the <c>*.crt</c> files of the host's certs.d directory, with its client
/// certificate pairs offered; no verification at all for an insecure endpoint. Nothing is sent
/// after the handshake.
/// </summary>
public static class RegistryProbe
{
    public const int DefaultPort = 443;

    /// <summary>Docker Hub's registry API is not served at docker.io itself.</summary>
    private const string DockerHubEndpoint = "registry-1.docker.io";

    public static async Task<ProbeResult> ProbeAsync(HostPaths paths, string host, bool insecure, CertsChoice certs, TimeSpan timeout, CancellationToken cancel)
    {
        var (name, port) = Address(host);
        var address = $"{(name.Contains(':', StringComparison.Ordinal) ? $"[{name}]" : name)}:{port.ToString(CultureInfo.InvariantCulture)}";
        if (certs.Error is not null)
        {
            return Failed(address, $"not connected: {certs.Directory}: {certs.Error}");
        }
        X509Certificate2Collection authorities;
        Dictionary<string, string> authorityFiles;
        X509Certificate2Collection clientCertificates;
        try
        {
            (authorities, authorityFiles) = LoadAuthorities(paths, certs);
            clientCertificates = LoadClientCertificates(paths, certs);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or System.Security.Cryptography.CryptographicException)
        {
            return Failed(address, $"not connected: {certs.Directory}: {e.Message}");
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancel);
        deadline.CancelAfter(timeout);
        string? verifiedBy = null;
        string? validationError = null;
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(name, port, deadline.Token).ConfigureAwait(false);
            await using var tls = new SslStream(tcp.GetStream(), leaveInnerStreamOpen: false, (_, certificate, chain, errors) =>
            {
                if (insecure)
                {
                    return true;
                }
                (verifiedBy, validationError) = Verify(name, certificate, chain, errors, authorities, authorityFiles);
                return validationError is null;
            });
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = name,
                ClientCertificates = clientCertificates,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, deadline.Token).ConfigureAwait(false);
            using var server = tls.RemoteCertificate is { } remote ? X509CertificateLoader.LoadCertificate(remote.GetRawCertData()) : null;
            return new ProbeResult(address, Ok: true, Verified: !insecure, TlsVersion(tls.SslProtocol), server?.Subject,
                server?.NotAfter.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                insecure ? null : verifiedBy, null);
        }
        catch (OperationCanceledException) when (!cancel.IsCancellationRequested)
        {
            return Failed(address, $"timeout after {timeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s");
        }
        catch (SocketException e)
        {
            return Failed(address, e.SocketErrorCode switch
            {
                SocketError.ConnectionRefused => "connection refused",
                SocketError.HostNotFound or SocketError.TryAgain or SocketError.NoData => $"no such host {name}",
                SocketError.NetworkUnreachable or SocketError.HostUnreachable => "network unreachable",
                _ => e.Message,
            });
        }
        catch (AuthenticationException e)
        {
            return Failed(address, validationError ?? $"TLS handshake failed: {e.Message}");
        }
        catch (IOException e)
        {
            return Failed(address, $"TLS handshake failed: {e.Message}");
        }
    }

    /// <summary>The host name and port to connect to for a registry <c>host[:port]</c>.</summary>
    public static (string Name, int Port) Address(string host)
    {
        if (host.StartsWith('['))
        {
            var close = host.IndexOf(']', StringComparison.Ordinal);
            var rest = host[(close + 1)..];
            return (host[1..close], rest.StartsWith(':') ? int.Parse(rest[1..], CultureInfo.InvariantCulture) : DefaultPort);
        }
        var colon = host.LastIndexOf(':');
        if (colon >= 0)
        {
            return (host[..colon], int.Parse(host[(colon + 1)..], CultureInfo.InvariantCulture));
        }
        return (host == DockerReference.DockerHub ? DockerHubEndpoint : host, DefaultPort);
    }

    // Go verifies against the system pool with the certs.d CAs added; .NET reports the system
    // verdict, and a chain to one of the CA files is checked separately, so the file can be named.
    private static (string? VerifiedBy, string? Error) Verify(string name, X509Certificate? certificate, X509Chain? presented,
        SslPolicyErrors errors, X509Certificate2Collection authorities, Dictionary<string, string> authorityFiles)
    {
        if (certificate is null)
        {
            return (null, "the server sent no certificate");
        }
        if ((errors & SslPolicyErrors.RemoteCertificateNameMismatch) != 0)
        {
            return (null, $"x509: certificate is not valid for {name} (name mismatch)");
        }
        if (errors == SslPolicyErrors.None)
        {
            return ("the system roots", null);
        }
        using var leaf = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        using var chain = CaCertificates.ChainToRoots(leaf, presented, authorities, out var valid);
        if (valid)
        {
            var root = chain.ChainElements[^1].Certificate;
            return (authorityFiles.GetValueOrDefault(root.Thumbprint, "a certs.d CA"), null);
        }
        var status = chain.ChainStatus.Select(s => s.Status).Aggregate(X509ChainStatusFlags.NoError, (a, b) => a | b);
        if ((status & X509ChainStatusFlags.NotTimeValid) != 0)
        {
            return (null, $"x509: certificate has expired or is not yet valid (notAfter {leaf.NotAfter.ToUniversalTime():yyyy-MM-dd'T'HH:mm:ss'Z'})");
        }
        return (null, "x509: certificate signed by unknown authority");
    }

    private static (X509Certificate2Collection, Dictionary<string, string>) LoadAuthorities(HostPaths paths, CertsChoice certs)
    {
        var collection = new X509Certificate2Collection();
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in certs.CaFiles)
        {
            var bytes = ConsumerFiles.ReadCertsFile(paths, certs.Directory!, file);
            if (bytes is null)
            {
                continue;
            }
            var fromFile = new X509Certificate2Collection();
            try
            {
                fromFile.ImportFromPem(System.Text.Encoding.UTF8.GetString(bytes));
            }
            catch (System.Security.Cryptography.CryptographicException)
            {
                // containers/image skips PEM it cannot parse, silently.
                continue;
            }
            foreach (var certificate in fromFile)
            {
                files.TryAdd(certificate.Thumbprint, $"{certs.Directory}/{file}");
                collection.Add(certificate);
            }
        }
        return (collection, files);
    }

    private static X509Certificate2Collection LoadClientCertificates(HostPaths paths, CertsChoice certs)
    {
        var collection = new X509Certificate2Collection();
        foreach (var pair in certs.ClientCertificates)
        {
            var names = pair.Split(" + ");
            var certificate = ConsumerFiles.ReadCertsFile(paths, certs.Directory!, names[0]);
            var key = ConsumerFiles.ReadCertsFile(paths, certs.Directory!, names[1]);
            if (certificate is not null && key is not null)
            {
                collection.Add(X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(certificate), System.Text.Encoding.UTF8.GetString(key)));
            }
        }
        return collection;
    }

    private static string TlsVersion(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls13 => "TLS 1.3",
        SslProtocols.Tls12 => "TLS 1.2",
        _ => protocol.ToString(),
    };

    private static ProbeResult Failed(string address, string error) => new(address, false, false, null, null, null, null, error);
}
