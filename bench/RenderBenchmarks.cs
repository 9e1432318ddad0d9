using BenchmarkDotNet.Attributes;
using NodeAgent.Cluster;
using NodeAgent.Rendering;
using NodeAgent.Tests.Support;

namespace NodeAgent.Bench;

/// <summary>
/// The pure render at scale: <see cref="LargeCluster"/> (1,000 sources × 5 mirrors over 35
/// objects, 25 insecure and 25 blocked scopes) against an empty cluster, and the same large
/// input including manifest parsing. Goal: Render_Large under 20 ms.
/// </summary>
[MemoryDiagnoser]
[Config(typeof(BenchConfig))]
public class RenderBenchmarks
{
    private readonly ClusterInputs _empty = new();
    private string _directory = "";
    private ClusterInputs _large = new();

    [GlobalSetup]
    public void Setup()
    {
        _directory = Directory.CreateTempSubdirectory("node-agent-bench-").FullName;
        LargeCluster.Write(_directory);
        _large = new ClusterInputs { Snapshot = Load(_directory) };
        var result = Renderer.Render(_large);
        if (result.HasErrors)
        {
            throw new InvalidOperationException($"the large cluster does not render: {result.Problems.First(p => p.IsError)}");
        }
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(_directory, recursive: true);

    [Benchmark]
    public RenderResult Render_Large() => Renderer.Render(_large);

    [Benchmark]
    public RenderResult Render_Empty() => Renderer.Render(_empty);

    [Benchmark]
    public RenderResult LoadAndRender_Large() => Renderer.Render(new ClusterInputs { Snapshot = Load(_directory) });

    private static Resources.ClusterSnapshot Load(string directory)
    {
        var loaded = ManifestLoader.Load(directory, ManifestLimits.Default);
        if (loaded.Errors.Count > 0)
        {
            throw new InvalidOperationException($"the large cluster does not load: {loaded.Errors[0]}");
        }
        return loaded.Snapshot;
    }
}
