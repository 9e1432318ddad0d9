using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace NodeAgent.Tests.Consumer;

/// <summary>
/// The real consumer reads what node-agent writes: every golden registries.conf (with its search
/// drop-in) and policy.json is loaded by skopeo, i.e. containers/image, inside a
/// <see cref="SkopeoSandbox"/>. A load error shows before any connection attempt as
/// <c>loading registries configuration</c> (exit 1); a file that loads ends in a connection
/// error instead. Where the network is isolated, a reference under every scope is also resolved,
/// to check that the consumer blocks and mirrors exactly as the file intends.
/// </summary>
/// <remarks>
/// Case markers, next to <c>case.md</c>:
/// <list type="bullet">
/// <item><c>consumer-rejects</c>: containers/image is known to reject this golden output; the file
/// holds the expected error substring, and the test asserts the rejection (so a fix shows up as a
/// failure to update, never as silence).</item>
/// <item><c>consumer-inert-scopes</c>: one scope per line that containers/image loads but never
/// matches (a tag or digest in a prefix: it matches on the repository name only); the test
/// asserts that a pull of exactly that scope is neither blocked nor mirrored.</item>
/// </list>
/// When skopeo is missing (or, for the scope probes, a network namespace), the tests are skipped
/// with the reason (<see cref="Requires"/>), so a developer without skopeo can still run the suite;
/// with <c>CI=true</c> they fail, so the real-consumer check never silently vanishes from the pipeline.
/// </remarks>
public sealed partial class SkopeoConsumerTests(ITestOutputHelper output)
{
    private const string ProbeTagSuffix = "/consumer-probe/probe:latest";
    private const string ProbeDigestSuffix = "/consumer-probe/probe@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static string CasesRoot => Path.Join(RepoPaths.TestData, "registries");

    public static TheoryData<string> CasesWithRegistriesConf() => CasesWith("registries.conf");

    public static TheoryData<string> CasesWithPolicy() => CasesWith("policy.json");

    /// <summary>The cases whose files the consumer loads: the scopes of a rejected file cannot be probed (the load test asserts the rejection).</summary>
    public static TheoryData<string> CasesTheConsumerLoads() =>
        new(CaseNamesWith("registries.conf").Where(name => !File.Exists(Path.Join(CasesRoot, name, "consumer-rejects"))));

    [Fact]
    public void Every_successful_golden_case_is_covered()
    {
        var all = Directory.EnumerateDirectories(CasesRoot).Select(Path.GetFileName).ToList();
        var successful = all.Where(name => !File.Exists(Path.Join(CasesRoot, name, "exit-code"))).ToList();
        CaseNamesWith("registries.conf").Should().BeEquivalentTo(successful,
            "every case that renders writes registries.conf, and each must be loaded by the consumer");
        successful.Count(name => File.Exists(Path.Join(CasesRoot, name, "expected/etc/containers/registries.conf.d", SkopeoSandbox.DropInName)))
            .Should().BeGreaterThanOrEqualTo(2, "the drop-in (non-empty and empty list) must be exercised");
    }

    [SkippableTheory]
    [MemberData(nameof(CasesWithRegistriesConf))]
    public void Golden_registries_conf_and_drop_in_load_in_containers_image(string name)
    {
        RequireSkopeo();
        using var sandbox = SandboxFor(name);
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        var rejects = Path.Join(CasesRoot, name, "consumer-rejects");
        if (File.Exists(rejects))
        {
            var expected = File.ReadAllText(rejects).Trim();
            output.WriteLine($"{name}: containers/image rejects this output, as the consumer-rejects marker expects: {expected}");
            AssertLoadRejected(result, expected);
            return;
        }
        AssertLoadAccepted(result, sandbox);
        result.Errors.Should().Contain("pinging container registry 127.0.0.1:1",
            "a loaded configuration leads to the (refused or unreachable) connection, and only then fails");
    }

    [SkippableTheory]
    [MemberData(nameof(CasesTheConsumerLoads))]
    public void Golden_scopes_are_blocked_and_mirrored_as_written(string name)
    {
        RequireSkopeo();
        Requires.That(SkopeoSandbox.NetworkIsolated,
            $"probing real host names needs a network namespace (unshare --net with /etc/containers replaced), and this machine gives {SkopeoSandbox.Isolation}");
        using var sandbox = SandboxFor(name);
        var entries = RegistryEntry.Parse(File.ReadAllText(ExpectedFile(name, "registries.conf")));
        var inert = ReadLines(Path.Join(CasesRoot, name, "consumer-inert-scopes"));
        inert.Should().BeSubsetOf(entries.Select(e => e.Scope), "consumer-inert-scopes must name scopes of the file");
        var probed = 0;
        foreach (var entry in entries.DistinctBy(e => e.Scope))
        {
            foreach (var probe in entry.Probes())
            {
                var result = sandbox.Inspect(probe.Reference);
                if (result.LoadedRegistriesFiles.Count == 0 && result.Errors.Contains("invalid reference format", StringComparison.Ordinal))
                {
                    // skopeo refused the reference itself, before reading any configuration: no
                    // pull can ever match this scope, so there is nothing to resolve.
                    output.WriteLine($"{entry.Scope}: no valid image reference lies under this scope; not probed");
                    continue;
                }
                probed++;
                AssertLoadAccepted(result, sandbox);
                result.Errors.Should().NotContain("rewriting reference", $"{probe.Reference} maps through {entry.Scope}");
                var pull = PullOutcome.Parse(result.Errors);
                if (inert.Contains(entry.Scope))
                {
                    output.WriteLine($"{entry.Scope}: loaded but inert in containers/image, as consumer-inert-scopes says");
                    pull.PrimaryBlocked.Should().BeFalse($"{entry.Scope} is listed as inert\n{result}");
                    pull.Mirrors.Should().BeEmpty($"{entry.Scope} is listed as inert\n{result}");
                    continue;
                }
                RegistryEntry.Match(entries, probe.Reference).Should().Be(entry, $"{probe.Reference} must resolve to its own table");
                pull.Mirrors.Select(m => m.Reference).Should().Equal(probe.ExpectedMirrors,
                    $"{probe.Reference} must try exactly the eligible mirrors of {entry.Scope}, in file order\n{result}");
                foreach (var (mirror, error) in pull.Mirrors)
                {
                    // A mirror inside a blocked scope is listed but refused (registries.md §2.4.9, case 3).
                    var blocked = RegistryEntry.Match(entries, mirror)?.Blocked == true;
                    error.Contains("is blocked in", StringComparison.Ordinal).Should().Be(blocked,
                        $"mirror {mirror} of {entry.Scope} lies {(blocked ? "inside" : "outside")} a blocked scope\n{result}");
                    if (blocked)
                    {
                        output.WriteLine($"{entry.Scope}: mirror {mirror} is refused by the consumer as blocked");
                    }
                }
                pull.PrimaryBlocked.Should().Be(entry.Blocked, $"{entry.Scope} has blocked = {entry.Blocked}\n{result}");
                if (!entry.Blocked)
                {
                    pull.Primary.Should().Contain("pinging container registry", "the primary location is contacted last");
                }
            }
        }
        output.WriteLine($"{probed} references resolved through {entries.Count} [[registry]] tables");
    }

    [SkippableTheory]
    [MemberData(nameof(CasesWithPolicy))]
    public void Golden_policy_json_loads_in_containers_image(string name)
    {
        RequireSkopeo();
        using var sandbox = SandboxFor(name);
        var result = sandbox.CopyFromClosedPort();

        result.ExitCode.Should().Be(1, result.ToString());
        result.Errors.Should().NotContain("trust policy", result.ToString())
            .And.NotContain("policy.json", result.ToString())
            .And.Contain("pinging container registry 127.0.0.1:1", "the policy loaded, so copy went on to the source");
    }

    [SkippableFact]
    public void Negative_control_unknown_pull_from_mirror_value_is_a_load_error()
    {
        RequireSkopeo();
        using var sandbox = new SkopeoSandbox("""
            [[registry]]
              prefix = ""
              location = "registry.example.com/team"

              [[registry.mirror]]
                location = "mirror.example.net/team"
                pull-from-mirror = "sometimes"
            """);
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        AssertLoadRejected(result, "unsupported pull-from-mirror value \"sometimes\" for mirror \"mirror.example.net/team\"");
        result.Errors.Should().Contain($"loading registries configuration \"{sandbox.MainPath}\"");
    }

    [SkippableFact]
    public void Negative_control_wildcard_prefix_with_a_path_is_a_load_error()
    {
        RequireSkopeo();
        using var sandbox = new SkopeoSandbox("""
            [[registry]]
              prefix = "*.example.com/team"
              blocked = true
            """);
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        AssertLoadRejected(result, "Wildcarded prefix should be in the format: *.example.com");
    }

    [SkippableFact]
    public void Negative_control_the_drop_in_is_read_from_where_node_agent_writes_it()
    {
        RequireSkopeo();
        using var sandbox = new SkopeoSandbox(
            "unqualified-search-registries = [\"registry.access.redhat.com\"]\n",
            dropIn: "[registries.search]\nregistries = [\"registry.example.com\"]\n");
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        AssertLoadRejected(result, $"loading drop-in registries configuration \"{sandbox.DropInPath}\": registry must be in v2 format but is in v1");
    }

    [SkippableFact]
    public void Negative_control_a_mirror_that_cannot_be_rewritten_fails_before_the_network()
    {
        RequireSkopeo();
        // Loopback hosts only, so this runs even without a network namespace.
        using var sandbox = new SkopeoSandbox("""
            [[registry]]
              prefix = ""
              location = "127.0.0.1:1/consumer-check"

              [[registry.mirror]]
                location = "127.0.0.1:1/Upper-Case"
            """);
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        result.ExitCode.Should().Be(1, result.ToString());
        result.Errors.Should().Contain("rewriting reference: invalid reference format: repository name must be lowercase", result.ToString());
    }

    [SkippableFact]
    public void Negative_control_a_blocked_scope_is_reported_as_blocked()
    {
        RequireSkopeo();
        using var sandbox = new SkopeoSandbox("""
            [[registry]]
              prefix = ""
              location = "127.0.0.1:1/consumer-check"
              blocked = true
            """);
        var result = sandbox.Inspect(SkopeoSandbox.ClosedLocalReference);

        AssertLoadAccepted(result, sandbox);
        result.Errors.Should().Contain("registry 127.0.0.1:1/consumer-check is blocked in", result.ToString())
            .And.NotContain("pinging container registry", "a blocked primary is never contacted");
    }

    [SkippableFact]
    public void Negative_control_an_invalid_policy_is_a_load_error()
    {
        RequireSkopeo();
        using var sandbox = new SkopeoSandbox("", policyJson: """{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker":{"registry.example.com":[{"type":"rejectEverything"}]}}}""");
        var result = sandbox.CopyFromClosedPort();

        result.ExitCode.Should().Be(1, result.ToString());
        result.Errors.Should().Contain("Error loading trust policy", result.ToString())
            .And.Contain("Unknown policy requirement type \"rejectEverything\"")
            .And.NotContain("pinging container registry", "the policy is loaded before the source is touched");
    }

    private static TheoryData<string> CasesWith(string file) => new(CaseNamesWith(file));

    private static List<string> CaseNamesWith(string file) =>
        Directory.EnumerateDirectories(CasesRoot).Select(dir => Path.GetFileName(dir))
            .Where(name => File.Exists(ExpectedFile(name, file)))
            .Order(StringComparer.Ordinal)
            .ToList();

    private static string ExpectedFile(string name, string relative) => Path.Join(CasesRoot, name, "expected/etc/containers", relative);

    private static SkopeoSandbox SandboxFor(string name)
    {
        var dropIn = ExpectedFile(name, "registries.conf.d/" + SkopeoSandbox.DropInName);
        var policy = ExpectedFile(name, "policy.json");
        return new SkopeoSandbox(
            File.ReadAllText(ExpectedFile(name, "registries.conf")),
            File.Exists(dropIn) ? File.ReadAllText(dropIn) : null,
            File.Exists(policy) ? File.ReadAllText(policy) : null);
    }

    private static List<string> ReadLines(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList() : [];

    private void RequireSkopeo()
    {
        Requires.That(SkopeoSandbox.SkopeoPath is not null,
            "skopeo is not installed: apt-get install skopeo (make deps does it as root), so containers/image cannot check the file");
        output.WriteLine($"skopeo: {SkopeoSandbox.SkopeoPath}; isolation: {SkopeoSandbox.Isolation}");
    }

    private static void AssertLoadAccepted(SkopeoResult result, SkopeoSandbox sandbox)
    {
        result.ExitCode.Should().Be(1, "nothing can be pulled from a closed port or without a network\n" + result);
        result.Errors.Should().NotContain("registries configuration", result.ToString())
            .And.NotContain("registries.conf\"", result.ToString())
            .And.NotContain("toml:", result.ToString());
        result.LoadedRegistriesFiles.Should().Equal(sandbox.ExpectedLoadedFiles,
            "skopeo must read exactly the files under test: no machine or user configuration\n" + result);
    }

    private static void AssertLoadRejected(SkopeoResult result, string expected)
    {
        result.ExitCode.Should().Be(1, result.ToString());
        result.Errors.Should().Contain("loading registries configuration", result.ToString())
            .And.Contain(expected, result.ToString())
            .And.NotContain("pinging container registry", "a configuration error surfaces before any connection attempt");
    }

    /// <summary>
    /// What one pull attempt did, from skopeo's final error:
    /// <c>(Mirrors also failed: [ref1: err1]\n[ref2: err2]): primary: err</c> (logrus keeps the
    /// newline escaped), or just the primary's error when no mirror was eligible.
    /// </summary>
    private sealed partial record PullOutcome(IReadOnlyList<(string Reference, string Error)> Mirrors, string Primary)
    {
        public bool PrimaryBlocked => Primary.Contains("is blocked in", StringComparison.Ordinal);

        public static PullOutcome Parse(string errors)
        {
            var start = errors.IndexOf("(Mirrors also failed: ", StringComparison.Ordinal);
            if (start < 0)
            {
                return new PullOutcome([], errors);
            }
            var mirrors = MirrorAttempt().Matches(errors[start..]).Select(m => (m.Groups["ref"].Value, m.Groups["error"].Value)).ToList();
            var end = errors.IndexOf("]): ", start, StringComparison.Ordinal);
            return new PullOutcome(mirrors, end < 0 ? "" : errors[(end + 4)..]);
        }

        [GeneratedRegex("(?:\\(Mirrors also failed: |\\\\n)\\[(?<ref>[^ \\]]+): (?<error>.*?)\\](?=\\\\n\\[|\\): )", RegexOptions.CultureInvariant)]
        private static partial Regex MirrorAttempt();
    }

    private sealed record Mirror(string Location, string? PullFromMirror);

    private sealed record Probe(string Reference, IReadOnlyList<string> ExpectedMirrors);

    /// <summary>One <c>[[registry]]</c> table of a registries.conf that node-agent wrote (its fixed layout, not general TOML).</summary>
    private sealed partial record RegistryEntry(string Prefix, string Location, bool Blocked, bool MirrorByDigestOnly, IReadOnlyList<Mirror> Mirrors)
    {
        /// <summary>What the table applies to: the prefix, or the location when the prefix is empty.</summary>
        public string Scope => Prefix.Length > 0 ? Prefix : Location;

        private bool IsWildcard => Scope.StartsWith("*.", StringComparison.Ordinal);

        private bool IsTaggedOrDigested
        {
            get
            {
                var slash = Scope.LastIndexOf('/');
                return Scope.Contains('@', StringComparison.Ordinal) || (slash >= 0 && Scope.IndexOf(':', slash) > slash);
            }
        }

        /// <summary>
        /// References under the scope, each with the mirror references containers/image must try
        /// for it. Two path components below the scope keep docker.io from adding "library/".
        /// </summary>
        public IEnumerable<Probe> Probes()
        {
            if (IsTaggedOrDigested)
            {
                var digest = Scope.Contains('@', StringComparison.Ordinal);
                yield return new Probe(Scope, Eligible(digest).Select(m => m.Location).ToList());
                yield break;
            }
            var under = IsWildcard ? "consumer-probe" + Scope[1..] : Scope;
            yield return new Probe(under + ProbeTagSuffix, Eligible(digest: false).Select(m => m.Location + ProbeTagSuffix).ToList());
            if (Mirrors.Count > 0)
            {
                yield return new Probe(under + ProbeDigestSuffix, Eligible(digest: true).Select(m => m.Location + ProbeDigestSuffix).ToList());
            }
        }

        // containers-registries.conf(5): mirror-by-digest-only and pull-from-mirror choose which
        // mirrors a pull by tag or by digest may use.
        private IEnumerable<Mirror> Eligible(bool digest) => Mirrors.Where(m => digest
            ? m.PullFromMirror != "tag-only"
            : !MirrorByDigestOnly && m.PullFromMirror != "digest-only");

        /// <summary>
        /// The table containers-registries.conf(5) applies to <paramref name="reference"/>: the
        /// longest prefix that the reference starts with, followed by a separator or the end; a
        /// wildcard matches subdomains of the host part only and counts with its own length.
        /// Ties go to the smaller prefix, as containers/image sorts the tables by prefix (checked
        /// with skopeo 1.9.3: <c>*.b.example.com</c> beats <c>x.b.example.com</c>). Matched on the
        /// whole reference, as the man page documents (tag and digest prefixes included).
        /// </summary>
        public static RegistryEntry? Match(IEnumerable<RegistryEntry> entries, string reference)
        {
            RegistryEntry? best = null;
            foreach (var entry in entries.OrderBy(e => e.Scope, StringComparer.Ordinal))
            {
                if (entry.Matches(reference) && entry.Scope.Length > (best?.Scope.Length ?? 0))
                {
                    best = entry;
                }
            }
            return best;
        }

        private bool Matches(string reference)
        {
            int end;
            if (IsWildcard)
            {
                var index = reference.IndexOf(Scope[1..], StringComparison.Ordinal);
                if (index <= 0 || reference[..index].Contains('/', StringComparison.Ordinal))
                {
                    return false;
                }
                end = index + Scope.Length - 1;
            }
            else
            {
                if (!reference.StartsWith(Scope, StringComparison.Ordinal))
                {
                    return false;
                }
                end = Scope.Length;
            }
            return end == reference.Length || reference[end] is '/' or ':' or '@';
        }

        public static List<RegistryEntry> Parse(string toml)
        {
            var entries = new List<RegistryEntry>();
            Builder? current = null;
            Dictionary<string, string>? mirror = null;
            foreach (var raw in toml.Split('\n'))
            {
                var line = raw.Trim();
                if (line == "[[registry]]")
                {
                    Flush();
                    current = new Builder();
                    continue;
                }
                if (line == "[[registry.mirror]]")
                {
                    FlushMirror();
                    mirror = [];
                    continue;
                }
                var match = KeyValue().Match(line);
                if (current is null || !match.Success)
                {
                    continue;
                }
                (mirror ?? current.Keys)[match.Groups["key"].Value] = Unquote(match.Groups["value"].Value);
            }
            Flush();
            return entries;

            void FlushMirror()
            {
                if (mirror is not null)
                {
                    current!.Mirrors.Add(new Mirror(mirror["location"], mirror.GetValueOrDefault("pull-from-mirror")));
                    mirror = null;
                }
            }

            void Flush()
            {
                FlushMirror();
                if (current is not null)
                {
                    entries.Add(new RegistryEntry(
                        current.Keys.GetValueOrDefault("prefix", ""),
                        current.Keys.GetValueOrDefault("location", ""),
                        current.Keys.GetValueOrDefault("blocked") == "true",
                        current.Keys.GetValueOrDefault("mirror-by-digest-only") == "true",
                        current.Mirrors));
                }
            }
        }

        // TOML basic strings as the TOML writer emits them; bare values (true, false) as written.
        private static string Unquote(string value)
        {
            if (value.Length < 2 || value[0] != '"')
            {
                return value;
            }
            var sb = new StringBuilder();
            for (var i = 1; i < value.Length - 1; i++)
            {
                if (value[i] != '\\')
                {
                    sb.Append(value[i]);
                    continue;
                }
                var c = value[++i];
                switch (c)
                {
                    case 'u':
                        sb.Append((char)int.Parse(value.AsSpan(i + 1, 4), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
                        i += 4;
                        break;
                    case 'U':
                        sb.Append(char.ConvertFromUtf32(int.Parse(value.AsSpan(i + 1, 8), NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
                        i += 8;
                        break;
                    default:
                        sb.Append(c switch { 't' => '\t', 'n' => '\n', 'r' => '\r', 'b' => '\b', 'f' => '\f', _ => c });
                        break;
                }
            }
            return sb.ToString();
        }

        [GeneratedRegex("^(?<key>[a-z-]+) = (?<value>.*)$", RegexOptions.CultureInvariant)]
        private static partial Regex KeyValue();

        private sealed class Builder
        {
            public Dictionary<string, string> Keys { get; } = new(StringComparer.Ordinal);
            public List<Mirror> Mirrors { get; } = [];
        }
    }
}
