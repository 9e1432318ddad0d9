using FluentAssertions;
using NodeAgent.Tests.Support;
using Xunit;

namespace NodeAgent.Tests.Rendering;

/// <summary>
/// Every case under <c>tests/testdata/containerd/</c> (<see cref="GoldenCase"/>), run with
/// <c>--runtime containerd</c> unless the case's <c>args</c> names a runtime: exactly the expected
/// hosts.toml and CA files, and exactly the warnings in the case's <c>stderr</c> file, since a
/// warning is how node-agent says what containerd cannot express. <c>make golden</c> rewrites the
/// expected files; the real client reads them in tests/Consumer.
/// </summary>
public sealed class ContainerdGoldenTests
{
    public const string Area = "containerd";

    public static TheoryData<string> Cases() => GoldenCase.Names(Area);

    [Fact]
    public void There_are_cases_for_every_mapping_rule() => Cases().Count.Should().BeGreaterThanOrEqualTo(14);

    [Theory]
    [MemberData(nameof(Cases))]
    public void Case_renders_exactly_the_expected_files_and_warnings(string name) =>
        GoldenCase.Run(Area, name, ["--runtime", "containerd"], exactDiagnostics: true);
}
