using NoirCode.Privacy.Ledger;

// Usage: LedgerWriter FOLDER COUNT [BLOCK] — sends 1 token / 100 bytes COUNT times, printing "ack N" after each
// send's charge is durable, until killed or done. Without BLOCK each send is charged on its own; with it, sends
// consume reservations of BLOCK tokens (reserved before the first of them, settled when used up), as the egress
// guard does with a charge block.
var ledger = new ExposureLedger(args[0]);
int count = int.Parse(args[1]);
int block = args.Length > 2 ? int.Parse(args[2]) : 0;
ExposureReservation? reservation = null;
for (int i = 1; i <= count; i++)
{
    if (block == 0) ledger.Charge("ws-kill-test", "key-kill-test", 1, 100);
    else if (reservation?.TryConsume(1, 100) != true)
    {
        reservation?.Settle();
        reservation = ledger.Reserve("ws-kill-test", "key-kill-test", block, 100L * block);
        reservation.TryConsume(1, 100);
    }
    Console.Out.WriteLine($"ack {i}");
    Console.Out.Flush();
}
reservation?.Settle();
