using LoadGenerator;

// Open-loop HTTP load generator for samples/StreamScoring, and the report of its runs.
//
//   LoadGenerator run --url http://127.0.0.1:PORT --label simdrnn [--seconds 60] [--rate 2000] [--streams 1000]
//                     [--warmup 5] [--features 16] [--out artifacts/loadtest]
//   LoadGenerator report [--out artifacts/loadtest]     (summary.csv, summary.md, latency.png from the runs' JSON)
//
// `run` sends requests on a fixed schedule (request i is due at start + i/rate), whether or not earlier ones have
// answered, and times each from its due time, so queueing in the client, the network stack and the service all count.
try
{
    return args.Length == 0 ? Usage() : args[0] switch
    {
        "run" => await LoadRun.RunAsync(Arguments.Parse(args[1..])).ConfigureAwait(false),
        "report" => Report.Write(Arguments.Parse(args[1..])),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine(e.Message);
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: LoadGenerator run --url http://127.0.0.1:PORT --label NAME [--seconds N] [--rate R] [--streams S] [--warmup W] [--out DIR]");
    Console.Error.WriteLine("       LoadGenerator report [--out DIR]");
    return 2;
}
