using FluentAssertions;
using NodeAgent.Consumer;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Consumer;

/// <summary>policy.json as containers/image applies it to a docker reference: scope order, the verdict, load errors.</summary>
public sealed class PolicyLookupTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    private static ImageReference Ref(string value) => ImageReference.TryParse(value, out var r) ? r : throw new ArgumentException(value);

    [Fact]
    public void Scopes_go_from_the_full_reference_up_to_the_host_then_wildcard_domains_without_the_port()
    {
        PolicyLookup.DockerScopes(Ref("a.b.example.com:5000/ns/sub/app:v1")).Should().Equal(
            "a.b.example.com:5000/ns/sub/app:v1",
            "a.b.example.com:5000/ns/sub/app",
            "a.b.example.com:5000/ns/sub",
            "a.b.example.com:5000/ns",
            "a.b.example.com:5000",
            "*.b.example.com",
            "*.example.com",
            "*.com");
        PolicyLookup.DockerScopes(Ref("localhost/app@" + Digest)).Should().Equal("localhost/app@" + Digest, "localhost/app", "localhost");
    }

    public static TheoryData<string, string, string?, string> Precedence() => new()
    {
        { "quay.io/team/app:v1", "the exact reference with its tag comes first", "quay.io/team/app:v1", "exact" },
        { "quay.io/team/app:v2", "then the repository", "quay.io/team/app", "repo" },
        { "quay.io/team/other:v1", "then each parent namespace", "quay.io/team", "namespace" },
        { "quay.io/else/app:v1", "then host[:port]", "quay.io", "host" },
        { "registry.example.com/app:v1", "then the wildcard of the parent domain", "*.example.com", "wild" },
        { "other.test/app:v1", "then the transport's \"\" scope", "", "transport" },
    };

    [Theory]
    [MemberData(nameof(Precedence))]
    public void The_first_scope_present_decides(string reference, string reason, string? scope, string label)
    {
        var policy = PolicyJsonReader.Parse("""
            {
              "default": [{"type": "reject"}],
              "transports": {
                "docker": {
                  "quay.io/team/app:v1": [{"type": "insecureAcceptAnything"}],
                  "quay.io/team/app": [{"type": "signedBy", "keyType": "GPGKeys", "keyPath": "/etc/pki/repo.gpg"}],
                  "quay.io/team": [{"type": "sigstoreSigned", "keyPath": "/etc/pki/cosign.pub", "signedIdentity": {"type": "matchRepository"}}],
                  "quay.io": [{"type": "reject"}],
                  "*.example.com": [{"type": "insecureAcceptAnything"}],
                  "": [{"type": "signedBaseLayer", "baseLayerIdentity": {"type": "matchExact"}}]
                }
              }
            }
            """, "etc/containers/policy.json");
        var decision = PolicyLookup.Decide(policy, Ref(reference));
        decision.MatchedScope.Should().Be(scope, reason);
        decision.Verdict.Should().Be(label switch
        {
            "exact" or "wild" => PolicyVerdicts.Accepted,
            "repo" or "namespace" => PolicyVerdicts.SignatureRequired,
            _ => PolicyVerdicts.Rejected,
        }, reason);
        decision.ScopesLookedUp[^1].Should().Be(scope, "the lookup stops at the first scope present");
    }

    [Fact]
    public void Without_a_docker_scope_the_default_applies()
    {
        var policy = PolicyJsonReader.Parse("""{"default":[{"type":"insecureAcceptAnything"}],"transports":{"docker-daemon":{"":[{"type":"reject"}]}}}""", "p");
        var decision = PolicyLookup.Decide(policy, Ref("quay.io/a/b:1"));
        decision.Section.Should().Be("default");
        decision.MatchedScope.Should().BeNull();
        decision.Verdict.Should().Be(PolicyVerdicts.Accepted);
    }

    [Fact]
    public void Signature_requirements_name_the_key()
    {
        var policy = PolicyJsonReader.Parse("""
            {"default":[{"type":"signedBy","keyType":"GPGKeys","keyPaths":["/etc/pki/a.gpg","/etc/pki/b.gpg"],"signedIdentity":{"type":"matchRepoDigestOrExact"}}]}
            """, "p");
        var decision = PolicyLookup.Decide(policy, Ref("quay.io/a/b:1"));
        decision.Verdict.Should().Be(PolicyVerdicts.SignatureRequired);
        decision.Summary.Should().Be("requires a valid signature (signedBy)");
        decision.Requirements.Single().Detail.Should().Be("key type GPGKeys; key files /etc/pki/a.gpg, /etc/pki/b.gpg; identity matchRepoDigestOrExact");
    }

    [Fact]
    public void Reject_wins_over_everything_in_the_same_scope()
    {
        var policy = PolicyJsonReader.Parse("""{"default":[{"type":"insecureAcceptAnything"},{"type":"reject"}]}""", "p");
        PolicyLookup.Decide(policy, Ref("quay.io/a/b:1")).Verdict.Should().Be(PolicyVerdicts.Rejected);
    }

    [Theory]
    [InlineData("{\n  \"default\": [\n    {\"type\": \"reject\"},\n  ]\n}", "line 4:", "trailing comma: a JSON error names the line")]
    [InlineData("{\"transports\":{}}", "Default policy is missing", "default is required")]
    [InlineData("{\"default\":[]}", "must not be empty", "an empty requirement list")]
    [InlineData("{\"default\":[{\"type\":\"acceptSometimes\"}]}", "Unknown policy requirement type \"acceptSometimes\"", "unknown type")]
    [InlineData("{\"default\":[{\"keyType\":\"GPGKeys\"}]}", "every requirement needs a \"type\"", "no type")]
    [InlineData("{\"default\":[{\"type\":\"reject\"}],\"defualt\":[]}", "Unknown key \"defualt\"", "a misspelt top-level key")]
    public void Invalid_policy_files_name_the_file(string text, string message, string reason)
    {
        var act = () => PolicyJsonReader.Parse(text, "etc/containers/policy.json");
        act.Should().Throw<PolicyJsonException>(reason).Which.Message.Should()
            .StartWith("invalid policy in \"etc/containers/policy.json\": ").And.Contain(message, reason);
    }
}
