using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace NodeAgent.Tests.Support;

/// <summary>
/// A throw-away certificate authority and a server certificate it signed for <c>127.0.0.1</c>
/// (subject alternative name <c>IP:127.0.0.1</c>; Go has not accepted a bare common name since
/// 1.15). ECDSA P-256, valid from an hour ago for a day; the keys exist only in memory and in
/// the registry's scratch directory.
/// </summary>
public sealed class ThrowAwayPki : IDisposable
{
    public ThrowAwayPki()
    {
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest($"CN=node-agent e2e throw-away CA {Guid.NewGuid():N}", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        Ca = caRequest.CreateSelfSigned(now.AddHours(-1), now.AddDays(1));

        ServerKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var serverRequest = new CertificateRequest("CN=127.0.0.1", ServerKey, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        serverRequest.CertificateExtensions.Add(san.Build(true));
        serverRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        serverRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature, true));
        serverRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        serverRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(serverRequest.PublicKey, false));
        serverRequest.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Ca, true, false));
        Server = serverRequest.Create(Ca, now.AddHours(-1), now.AddDays(1), RandomNumberGenerator.GetBytes(16));
    }

    /// <summary>The CA certificate (with its key, which nothing but this class uses).</summary>
    public X509Certificate2 Ca { get; }

    public X509Certificate2 Server { get; }

    private ECDsa ServerKey { get; }

    public string CaPem => Ca.ExportCertificatePem() + "\n";

    public string ServerPem => Server.ExportCertificatePem() + "\n";

    public string ServerKeyPem => ServerKey.ExportPkcs8PrivateKeyPem() + "\n";

    /// <summary>True when <paramref name="certificate"/> chains to this CA and to nothing else.</summary>
    public bool Issued(X509Certificate certificate)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(Ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        using var leaf = new X509Certificate2(certificate);
        return chain.Build(leaf);
    }

    public void Dispose()
    {
        Ca.Dispose();
        Server.Dispose();
        ServerKey.Dispose();
    }
}

/// <summary>
/// A real registry, distribution v2 (<c>docker-registry serve</c>), serving HTTPS on
/// <c>127.0.0.1:&lt;free port&gt;</c> with a <see cref="ThrowAwayPki"/> server certificate and
/// filesystem storage in a scratch directory. <see cref="Start"/> returns once
/// <c>GET /v2/</c> answers 200 over TLS verified against the throw-away CA (deadline, no fixed
/// sleeps); <see cref="Dispose"/> kills it and deletes everything it wrote.
/// </summary>
public sealed class TlsRegistry : IDisposable
{
    private static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(15);

    private readonly TempRoot _scratch;
    private readonly LoggedProcess _process;

    private TlsRegistry(TempRoot scratch, ThrowAwayPki pki, int port)
    {
        _scratch = scratch;
        Pki = pki;
        Port = port;
        var config = _scratch.Write($"config-{port}.yml", $"""
            version: 0.1
            log:
              level: info
            storage:
              filesystem:
                rootdirectory: {_scratch.File("storage")}
              delete:
                enabled: false
            http:
              addr: 127.0.0.1:{port}
              tls:
                certificate: {_scratch.File("server.crt")}
                key: {_scratch.File("server.key")}
            """);
        var info = new ProcessStartInfo(Program ?? throw new InvalidOperationException("docker-registry is not installed"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("serve");
        info.ArgumentList.Add(config);
        // distribution reads REGISTRY_<SECTION>_<KEY> variables over its configuration file.
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("REGISTRY_", StringComparison.Ordinal)).ToList())
        {
            info.Environment.Remove(name);
        }
        _process = new LoggedProcess(info);
    }

    /// <summary><c>NODE_AGENT_DOCKER_REGISTRY</c>, else <c>docker-registry</c> on PATH; null when missing.</summary>
    public static string? Program { get; } = FindProgram();

    public ThrowAwayPki Pki { get; }

    public int Port { get; }

    /// <summary><c>127.0.0.1:PORT</c>: the registry's name in image references and its certs.d directory name.</summary>
    public string HostPort => $"127.0.0.1:{Port}";

    /// <summary>What the registry has logged so far (for failure messages).</summary>
    public string Log => _process.Log;

    public static TlsRegistry Start()
    {
        var scratch = new TempRoot("tls-registry");
        var pki = new ThrowAwayPki();
        try
        {
            File.WriteAllText(scratch.File("server.crt"), pki.ServerPem);
            File.WriteAllText(scratch.File("server.key"), pki.ServerKeyPem);
            // A directory with the CA alone: a flat --cert-dir also loads *.key files as client keys.
            scratch.Write("ca/ca.crt", pki.CaPem);
            Directory.CreateDirectory(scratch.File("storage"));
            // The free port is found by binding port 0 and releasing it; should something take it
            // before the registry binds it, the registry exits and another port is tried.
            var failures = new StringBuilder();
            for (var attempt = 0; attempt < 3; attempt++)
            {
                var registry = new TlsRegistry(scratch, pki, FreeLoopbackPort());
                if (registry.WaitUntilAnswering(out var why))
                {
                    return registry;
                }
                registry.Stop();
                failures.Append(FormattableString.Invariant($"attempt {attempt + 1} on {registry.HostPort}: {why}\n{registry.Log}\n"));
            }
            throw new InvalidOperationException($"docker-registry did not start:\n{failures}");
        }
        catch
        {
            pki.Dispose();
            scratch.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Pushes <paramref name="layout"/> to <c>127.0.0.1:PORT/REPOSITORY:TAG</c> with skopeo,
    /// trusting the CA through <c>--dest-cert-dir</c> (TLS is verified for the push too), from a
    /// <see cref="NodeRootSkopeo"/> whose root holds only an empty registries.conf and an
    /// accept-anything policy. Returns the manifest digest skopeo reports (<c>--digestfile</c>).
    /// </summary>
    public string Push(OciLayout layout, string repository, string tag)
    {
        using var pushRoot = new TempRoot("tls-registry-push");
        pushRoot.Write("etc/containers/registries.conf", "");
        pushRoot.Write("etc/containers/policy.json", """{"default":[{"type":"insecureAcceptAnything"}]}""");
        using var skopeo = new NodeRootSkopeo(pushRoot.Path);
        var digestFile = skopeo.Output("pushed.digest");
        var result = skopeo.Run("copy", "--digestfile", digestFile, "--dest-cert-dir", _scratch.File("ca"),
            layout.Reference, $"docker://{HostPort}/{repository}:{tag}");
        if (result.ExitCode != 0)
        {
            throw new InvalidOperationException($"pushing {layout.Reference} failed\n{result}\n--- registry log\n{Log}");
        }
        return File.ReadAllText(digestFile).Trim();
    }

    public void Dispose()
    {
        Stop();
        Pki.Dispose();
        _scratch.Dispose();
    }

    private void Stop() => _process.Dispose();

    private bool WaitUntilAnswering(out string why)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions
            {
                // The name must match (IP SAN) and the chain must end at the throw-away CA.
                RemoteCertificateValidationCallback = (_, certificate, _, errors) =>
                    certificate is not null && (errors & ~SslPolicyErrors.RemoteCertificateChainErrors) == SslPolicyErrors.None && Pki.Issued(certificate),
            },
        };
        using var client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        why = "no answer";
        while (deadline.Elapsed < StartDeadline)
        {
            if (_process.HasExited)
            {
                _process.WaitForExit(5000);
                why = $"exited with {_process.ExitCode}";
                return false;
            }
            try
            {
                using var response = client.Send(new HttpRequestMessage(HttpMethod.Get, $"https://{HostPort}/v2/"));
                if (response.StatusCode == HttpStatusCode.OK)
                {
                    return true;
                }
                why = $"GET /v2/ answered {(int)response.StatusCode}";
            }
            catch (HttpRequestException e)
            {
                why = e.InnerException?.Message ?? e.Message;
            }
            catch (TaskCanceledException)
            {
                why = "GET /v2/ timed out";
            }
            // Not yet listening: poll again shortly (bounded by the deadline above).
            _process.WaitForExit(50);
        }
        why = $"no 200 from GET /v2/ within {StartDeadline.TotalSeconds} s (last: {why})";
        return false;
    }

    private static int FreeLoopbackPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string? FindProgram()
    {
        if (Environment.GetEnvironmentVariable("NODE_AGENT_DOCKER_REGISTRY") is { Length: > 0 } explicitPath)
        {
            return File.Exists(explicitPath) ? explicitPath : null;
        }
        return Requires.OnPath("docker-registry");
    }
}
