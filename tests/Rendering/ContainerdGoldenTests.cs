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

    /// <summary>Every expected hosts.toml below <c>tests/testdata/containerd</c>: (case's expected root, path below it).</summary>
    public static IEnumerable<(string Root, string Relative)> ExpectedHostsFiles() =>
        Directory.EnumerateFiles(Path.Join(RepoPaths.TestData, Area), "hosts.toml", SearchOption.AllDirectories).Order(StringComparer.Ordinal)
            .Select(file =>
            {
                var root = file[..(file.IndexOf("/expected/", StringComparison.Ordinal) + "/expected".Length)];
                return (root, Path.GetRelativePath(root, file));
            });

    [Fact]
    public void Every_expected_hosts_toml_has_the_strict_shape_and_names_only_CA_files_that_exist()
    {
        var files = ExpectedHostsFiles().ToList();
        files.Should().HaveCountGreaterThanOrEqualTo(10);
        foreach (var (root, relative) in files)
        {
            var shape = HostsTomlShape.Parse(File.ReadAllText(Path.Join(root, relative)));
            Path.GetFileName(Path.GetDirectoryName(relative)).Should().MatchRegex("^[a-z0-9.-]+(:[0-9]+)?$", "the directory is the registry host[:port]");
            foreach (var endpoint in shape.TryOrder.Where(e => e.Ca is not null))
            {
                File.Exists(Path.Join(root, endpoint.Ca)).Should().BeTrue($"{relative} names {endpoint.Ca}, which the same pass writes");
            }
        }
    }
}
