using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Every case under <c>tests/testdata/registries/</c> (<see cref="GoldenCase"/>): node-agent run as
/// a user runs it on the case's manifests must write exactly the expected files (or, for exit 2,
/// nothing at all) and print the expected stderr lines. <c>make golden</c> rewrites the expected
/// files from the current output for review; it never touches exit-code or stderr expectations.
/// </summary>
public sealed class GoldenTests
{
    public static TheoryData<string> Cases() => GoldenCase.Names("registries");

    [Fact]
    public void There_are_at_least_forty_cases() => Cases().Count.Should().BeGreaterThanOrEqualTo(40);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_renders_exactly_the_expected_files(string name) => GoldenCase.Run("registries", name, []);
}
