using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using Perfolizer.Horology;
using Perfolizer.Metrology;

namespace NodeAgent.Bench;

/// <summary>
/// A short job: one process, a few warm-ups, ten measured iterations. Enough for a stable mean of
/// a millisecond-scale render on two cores, and the whole suite finishes in a couple of minutes.
/// Times in milliseconds and sizes in kilobytes, so the rows compare at a glance.
/// </summary>
public sealed class BenchConfig : ManualConfig
{
    public BenchConfig()
    {
        AddJob(Job.Default
            .WithLaunchCount(1)
            .WithWarmupCount(5)
            .WithIterationCount(10)
            .WithId("Short"));
        SummaryStyle = SummaryStyle.Default.WithTimeUnit(TimeUnit.Millisecond).WithSizeUnit(SizeUnit.KB);
    }
}
