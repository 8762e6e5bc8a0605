using NoirCode.Privacy.Ledger;

// Usage: LedgerWriter FOLDER COUNT [BLOCK] [--limit N] [--check-outside-lock] [--start-when FILE]
// Sends 1 token / 100 bytes COUNT times, printing "ack N" after each send's charge is durable, until killed or done.
// Without BLOCK (or 0) each send is charged on its own; with it, sends consume reservations of BLOCK tokens (reserved
// before the first of them, settled when used up), as the egress guard does with a charge block.
// --limit: a budget of N tokens for the key's whole life, checked as the egress guard checks it; a refused send
// prints "refused" and ends the run. --check-outside-lock: the check a racy guard would make instead (read the use,
// then charge in a second step), so a test can show that its hammering catches a non-atomic check.
// --start-when: print "ready", then wait until FILE exists, so that several writers start together.
var positional = new List<string>();
long? limit = null;
bool outsideLock = false;
string? startWhen = null;
for (int a = 0; a < args.Length; a++)
{
    switch (args[a])
    {
        case "--limit": limit = long.Parse(args[++a]); break;
        case "--check-outside-lock": outsideLock = true; break;
        case "--start-when": startWhen = args[++a]; break;
        default: positional.Add(args[a]); break;
    }
}
var ledger = new ExposureLedger(positional[0]);
int count = int.Parse(positional[1]);
int block = positional.Count > 2 ? int.Parse(positional[2]) : 0;
var budget = limit is long l ? new ExposureBudget(l, BudgetPeriod.Key) : null;
const string Workspace = "ws-kill-test", Key = "key-kill-test";
if (startWhen != null)
{
    Console.Out.WriteLine("ready");
    Console.Out.Flush();
    while (!File.Exists(startWhen)) Thread.Sleep(1);
}
ExposureReservation? reservation = null;
try
{
    for (int i = 1; i <= count; i++)
    {
        if (outsideLock)
        {
            // The racy check: another writer may charge between the read and the charge.
            if (budget!.Evaluate(ledger, Key).UsedTokens + 1 > budget.TokensPerPeriod) throw new ExposureBudgetExceededException(budget.Evaluate(ledger, Key), 1);
            Thread.Sleep(2);
            ledger.Charge(Workspace, Key, 1, 100);
        }
        else if (block == 0) ledger.Charge(Workspace, Key, 1, 100, within: budget);
        else if (reservation?.TryConsume(1, 100) != true)
        {
            reservation?.Settle();
            reservation = budget == null
                ? ledger.Reserve(Workspace, Key, block, 100L * block)
                : ledger.ReserveWithin(budget, Workspace, Key, 1, block, n => 100 * n);
            reservation.TryConsume(1, 100);
        }
        Console.Out.WriteLine($"ack {i}");
        Console.Out.Flush();
    }
}
catch (ExposureBudgetExceededException)
{
    Console.Out.WriteLine("refused");
}
reservation?.Settle();
