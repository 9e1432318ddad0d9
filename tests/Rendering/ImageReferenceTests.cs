using FluentAssertions;
using NodeAgent.Rendering;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>Release image parsing, as containers/image's ParseNamed accepts or rejects it.</summary>
public sealed class ImageReferenceTests
{
    private const string Digest = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    public static TheoryData<string, string?, string> Valid() => new()
    {
        { "quay.io/openshift-release-dev/ocp-release@" + Digest, "quay.io/openshift-release-dev/ocp-release", "by digest" },
        { "quay.io/openshift-release-dev/ocp-release:4.17.3-x86_64", "quay.io/openshift-release-dev/ocp-release", "by tag" },
        { "registry.local:5000/ocp/release:4.17@" + Digest, "registry.local:5000/ocp/release", "port, tag and digest" },
        { "localhost/release", "localhost/release", "localhost counts as a registry" },
        { "docker.io/library/busybox", "docker.io/library/busybox", "canonical docker.io" },
        { "quay.io/x:" + new string('a', 128), "quay.io/x", "a tag of 128 characters" },
        { "quay.io/x:_v1.2-rc_3", "quay.io/x", "a tag may start with an underscore" },
    };

    [Theory]
    [MemberData(nameof(Valid))]
    public void Parses(string value, string? name, string reason)
    {
        ImageReference.TryParse(value, out var reference).Should().BeTrue(reason);
        reference!.Name.Should().Be(name);
        reference.ToString().Should().Be(value);
    }

    public static TheoryData<string, string> Invalid() => new()
    {
        { "", "empty" },
        { "busybox", "no registry host: not canonical" },
        { "library/busybox", "first component is not a host" },
        { "docker.io/busybox", "docker.io needs library/: not canonical" },
        { "index.docker.io/library/busybox", "the index.docker.io alias is not canonical" },
        { "quay.io/Upper/case", "upper case in the path" },
        { "quay.io/x@sha256:abc", "a short digest" },
        { "quay.io/x@md5:0123456789abcdef0123456789abcdef", "an unknown digest algorithm" },
        { "quay.io/x@sha256:" + new string('A', 64), "upper-case hex" },
        { "quay.io/x:", "an empty tag" },
        { "quay.io/x:-tag", "a tag starting with a dash" },
        { "quay.io/" + new string('a', 260), "a name over 255 characters" },
        { "quay.io/x y", "a space" },
        { "quay.io/x:v\u00e9", "a tag with a non-ASCII letter (Go's \\w is ASCII)" },
        { "quay.io/x:" + new string('a', 129), "a tag over 128 characters" },
        { "quay.io/x@sha256:" + new string('0', 63), "a digest one character short" },
    };

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Rejects(string value, string reason) => ImageReference.TryParse(value, out _).Should().BeFalse(reason);

    [Fact]
    public void Gives_no_reason_for_a_valid_reference()
    {
        foreach (var row in Valid())
        {
            ImageReference.WhyInvalid((string)row[0]).Should().BeNull((string)row[2]);
        }
    }

    [Theory]
    [MemberData(nameof(Invalid))]
    public void Gives_a_reason_for_every_invalid_reference(string value, string reason) =>
        ImageReference.WhyInvalid(value).Should().NotBeNullOrEmpty(reason);

    public static TheoryData<string, string, string> Rewrites() => new()
    {
        { "mirror.example.com:5000@" + Digest, "which has no repository path", "a host-only mirror of a whole repository" },
        { "mirror.example.com:5000:4.17", "which has no repository path", "the same by tag: the port reads as the tag" },
        { "docker.io/release@" + Digest, "which containers/image normalises to \"docker.io/library/release\"", "docker.io without a namespace" },
        { "index.docker.io/ns/release", "which containers/image normalises to \"docker.io/ns/release\"", "the index.docker.io alias" },
        { "registry/ocp/release", "which containers/image reads as \"docker.io/registry/ocp/release\"", "a dotless host is a docker.io namespace" },
        { "MIRROR/ocp/release@" + Digest, "and a repository name must be lower-case", "an upper-case dotless host becomes an upper-case docker.io path" },
        { "quay.io/Upper/case", "whose repository path is not lower-case", "upper case in the path" },
        { "quay.io/" + new string('a', 260), "whose repository name is longer than 255 characters", "too long" },
        { "quay.io/x@sha256:abc", "whose digest is not valid", "a short digest" },
    };

    [Theory]
    [MemberData(nameof(Rewrites))]
    public void Names_why_a_rewritten_reference_is_refused(string value, string expected, string reason) =>
        ImageReference.WhyInvalid(value).Should().Contain(expected, reason);
}
