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
}
