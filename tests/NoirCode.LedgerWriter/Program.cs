using NoirCode.Privacy.Ledger;

// Usage: LedgerWriter FOLDER COUNT — charges 1 token / 100 bytes COUNT times, printing "ack N" after each
// charge has returned (and so is durable), until killed or done.
var ledger = new ExposureLedger(args[0]);
int count = int.Parse(args[1]);
for (int i = 1; i <= count; i++)
{
    ledger.Charge("ws-kill-test", "key-kill-test", 1, 100);
    Console.Out.WriteLine($"ack {i}");
    Console.Out.Flush();
}
