using System.Diagnostics;
using System.Globalization;
using System.Net.Http;
using NodeAgent.Tests.Support;

namespace NodeAgent.Bench;

/// <summary>
/// <c>make demo-daemon</c>: the daemon tried as a new user would, with no cluster. The fake API
/// server serves <c>examples/</c>; <c>bin/node-agent</c> runs as a daemon against it; then an
/// Image change, a hand edit of registries.conf and another writer fighting over it (drift,
/// with <c>DriftBackoffSeconds</c> at 2 to keep the demo short), the API server going away with a
/// change made meanwhile and coming back, a scrape of <c>/metrics</c> and a SIGTERM. Everything
/// the daemon logs is shown as it happens.
/// </summary>
internal static class DaemonDemo
{
    private const string Insecure = "staging.corp.example";
    private const string WhileAway = "made-while-away.corp.example";
    private const int DriftBackoffSeconds = 2;
    private const string NodeName = "worker-1";
    private const string SoonHost = "soon.corp.example:5000";

    public static async Task<int> RunAsync(string root)
    {
        var examples = Path.Join(RepoPaths.Root, "examples");
        await using var cluster = await FakeCluster.StartAsync().ConfigureAwait(false);
        var image = File.ReadAllText(Path.Join(examples, "image-cluster.yaml"));
        foreach (var file in Directory.EnumerateFiles(examples, "*.yaml").Order(StringComparer.Ordinal).Where(f => !f.EndsWith("unrelated.yaml", StringComparison.Ordinal)))
        {
            cluster.Apply(File.ReadAllText(file));
        }
        if (Directory.Exists(root))
        {
            Directory.Delete(root, recursive: true);
        }
        Say($"fake API server on {cluster.Server.Url} serving examples/; kubeconfig {cluster.Kubeconfig}");
        cluster.AddNode(NodeName);
        Say($"$ NODE_NAME={NodeName} NODEAGENT_DriftBackoffSeconds={DriftBackoffSeconds} bin/node-agent --kubeconfig <that kubeconfig> --root {root} --listen 127.0.0.1:0 --reload-command '' --report-status");
        using var daemon = DaemonProcess.Start(["--kubeconfig", cluster.Kubeconfig, "--root", root, "--listen", "127.0.0.1:0", "--reload-command", "", "--report-status"],
            new Dictionary<string, string> { ["NODEAGENT_DriftBackoffSeconds"] = DriftBackoffSeconds.ToString(CultureInfo.InvariantCulture), ["NODE_NAME"] = NodeName });
        var shown = 0;
        void ShowLog()
        {
            var log = daemon.Log;
            for (; shown < log.Count; shown++)
            {
                Console.Out.WriteLine("  | " + log[shown]);
            }
        }
        await daemon.WaitForLogAsync("sync applied").ConfigureAwait(false);
        var endpoint = new Uri("http://" + daemon.Log.First(l => l.Contains("serving /healthz", StringComparison.Ordinal)).Split("http://")[1]);
        using var http = new HttpClient();
        await daemon.WaitForAsync(() => http.GetAsync(new Uri(endpoint, "/readyz")).Result.IsSuccessStatusCode, "/readyz 200").ConfigureAwait(false);
        ShowLog();
        Say($"$ curl {new Uri(endpoint, "/readyz")}");
        Console.Out.Write("  " + await http.GetStringAsync(new Uri(endpoint, "/readyz")).ConfigureAwait(false));

        var registries = Path.Join(root, "etc", "containers", "registries.conf");
        Say($"adding {Insecure} to Image/cluster spec.registrySources.insecureRegistries");
        var clock = Stopwatch.StartNew();
        cluster.Apply(image.Replace("      - lab-registry.corp.example:5000", $"      - lab-registry.corp.example:5000\n      - {Insecure}", StringComparison.Ordinal));
        await daemon.WaitForAsync(() => File.ReadAllText(registries).Contains(Insecure, StringComparison.Ordinal), "the change on disk").ConfigureAwait(false);
        Say($"{Insecure} is in {registries} {clock.ElapsedMilliseconds} ms after the API write");
        await daemon.WaitForLogAsync("sync applied", TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        await Task.Delay(200).ConfigureAwait(false);
        ShowLog();

        await ShowDriftAsync(daemon, registries, ShowLog).ConfigureAwait(false);

        Say("the API server goes away for 5 s; meanwhile the Image changes again");
        await cluster.Server.GoAwayAsync().ConfigureAwait(false);
        cluster.Apply(image.Replace("      - lab-registry.corp.example:5000", $"      - lab-registry.corp.example:5000\n      - {WhileAway}", StringComparison.Ordinal));
        await Task.Delay(TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        ShowLog();
        Say("the API server is back");
        await cluster.Server.ComeBackAsync().ConfigureAwait(false);
        clock.Restart();
        await daemon.WaitForAsync(() => File.ReadAllText(registries).Contains(WhileAway, StringComparison.Ordinal), "the change made while away").ConfigureAwait(false);
        Say($"{WhileAway} is on disk {clock.ElapsedMilliseconds} ms after the server came back; {Insecure} is {(File.ReadAllText(registries).Contains(Insecure, StringComparison.Ordinal) ? "still there" : "gone, as the Image now says")}");
        await Task.Delay(300).ConfigureAwait(false);
        ShowLog();

        await ShowStatusAsync(cluster, daemon, root, ShowLog).ConfigureAwait(false);

        Say($"$ curl {new Uri(endpoint, "/metrics")} | grep -v '^#'");
        foreach (var line in (await http.GetStringAsync(new Uri(endpoint, "/metrics")).ConfigureAwait(false)).Split('\n').Where(l => l.Length > 0 && l[0] != '#'))
        {
            Console.Out.WriteLine("  " + line);
        }
        Say("$ kill -TERM <node-agent>");
        var (exitCode, took) = await daemon.TerminateAsync().ConfigureAwait(false);
        ShowLog();
        Say(string.Create(CultureInfo.InvariantCulture, $"node-agent exited {exitCode} after {took.TotalMilliseconds:0} ms; the files are in {root}/etc"));
        return exitCode;
    }

    // Someone else edits registries.conf once, then another writer keeps rewriting it: node-agent
    // restores it without any API change, and backs off from the fight.
    private static async Task ShowDriftAsync(DaemonProcess daemon, string registries, Action showLog)
    {
        var ours = File.ReadAllText(registries);
        Say("$ echo 'unqualified-search-registries = [\"docker.io\"]' > registries.conf   # someone edits it by hand");
        var clock = Stopwatch.StartNew();
        File.WriteAllText(registries, "unqualified-search-registries = [\"docker.io\"]\n");
        await daemon.WaitForAsync(() => File.ReadAllText(registries) == ours, "registries.conf restored").ConfigureAwait(false);
        Say($"registries.conf is node-agent's again {clock.ElapsedMilliseconds} ms after the edit, with no API change");
        await Task.Delay(300).ConfigureAwait(false);
        showLog();

        Say("another writer rewrites registries.conf every 50 ms for 5 s");
        var restoredBefore = Restores(daemon);
        clock.Restart();
        var writes = 0;
        while (clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            File.WriteAllText(registries, $"# the other writer, write {++writes}\n");
            await Task.Delay(50).ConfigureAwait(false);
        }
        var duringFight = Restores(daemon) - restoredBefore;
        await daemon.WaitForAsync(() => File.ReadAllText(registries) == ours, "registries.conf restored after the fight", TimeSpan.FromSeconds(30)).ConfigureAwait(false);
        Say($"{writes} foreign writes in 5 s; node-agent restored the file {duringFight} time(s) meanwhile and once more {clock.Elapsed.TotalSeconds:0.0} s after the start, when its back-off allowed");
        await Task.Delay(300).ConfigureAwait(false);
        showLog();
    }

    // --report-status: a CA that expires in 5 days is added, then what a cluster admin sees on the
    // Node (Events and the annotation) and what `node-agent status` says on the node itself.
    private static async Task ShowStatusAsync(FakeCluster cluster, DaemonProcess daemon, string root, Action showLog)
    {
        var ca = ThrowawayCa.Create("soon-expiring demo CA", TimeSpan.FromDays(6));
        Say($"a CA that expires in 5 days is added for {SoonHost} to the additionalTrustedCA ConfigMap");
        var configMap = File.ReadAllText(Path.Join(RepoPaths.Root, "examples", "ca-configmap.yaml")).TrimEnd('\n');
        cluster.Apply(configMap + $"\n  {SoonHost.Replace(":", "..", StringComparison.Ordinal)}: |\n" + string.Join('\n', ca.Pem.TrimEnd('\n').Split('\n').Select(l => "    " + l)) + "\n");
        await daemon.WaitForAsync(() => cluster.Events().Any(e => e["reason"]?.GetValue<string>() == "CACertificateExpiring"), "the expiry event").ConfigureAwait(false);
        await Task.Delay(300).ConfigureAwait(false);
        showLog();
        Say($"$ kubectl get events --field-selector involvedObject.name={NodeName}   # as the fake API server stored them");
        foreach (var item in cluster.Events())
        {
            Console.Out.WriteLine($"  {item["type"],-8} {item["reason"],-24} {item["message"]}");
        }
        Say($"$ kubectl get node {NodeName} -o jsonpath='{{.metadata.annotations.node-agent\\.io/status}}'");
        Console.Out.WriteLine("  " + cluster.NodeAnnotations(NodeName)?["node-agent.io/status"]);
        Say($"$ bin/node-agent status --root {root}");
        var status = NodeAgentProcess.Run(["status", "--root", root]);
        Console.Out.Write(string.Concat(status.Stdout.Split('\n').Where(l => l.Length > 0).Select(l => "  " + l + "\n")));
    }

    private static int Restores(DaemonProcess daemon) =>
        daemon.Log.Count(l => l.Contains("restored etc/containers/registries.conf", StringComparison.Ordinal));

    private static void Say(string text) => Console.Out.WriteLine($"\n== {text}");
}
