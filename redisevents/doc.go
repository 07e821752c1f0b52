// Package redisevents shares verify-go's webhook events and their
// de-duplication between the instances of a service over Redis, so that a
// push login waiting on one instance ends as soon as Twilio's webhook
// reaches any of them, and a Twilio retry that lands on another instance
// is still a duplicate.
//
// A *Bus is all three things the root package asks for: pass bus.Publish
// to verify.NewWebhookHandler, the bus as WebhookConfig.Dedup, and the bus
// as WaitOptions.Events:
//
//	rdb := redis.NewClient(&redis.Options{Addr: "redis:6379"}) // or a Sentinel or Cluster client
//	bus := redisevents.New(rdb, redisevents.WithPrefix("login"))
//	defer bus.Close()
//	mux.Handle("/hooks/verify", verify.NewWebhookHandler(verify.WebhookConfig{
//		AuthTokens: tokens, PublicURL: public, Dedup: bus}, bus.Publish))
//	ch, err := client.Challenges.Wait(ctx, svc, identity, sid, &verify.WaitOptions{Events: bus})
//
// # What is kept in Redis
//
// Every name starts with the prefix (WithPrefix; "verify" by default), so
// that several services can share one Redis:
//
//	<prefix>:events              pub/sub channel: every challenge event, as JSON
//	<prefix>:recent:<YC…>        list: a challenge's last 4 events, for a Wait that
//	                             subscribes after its webhook came; expires
//	                             WithRetention (verify.EventHubRetention, 1 min)
//	                             after the last one
//	<prefix>:uuid:<uuid>         string: "claim:<holder>" while a delivery is
//	                             handled, expiring after the lease (WithLease,
//	                             15 s, renewed while the holder lives); then
//	                             "done" for the handler's ReplayWindow
//
// Nothing else is written, and every key expires.
//
// # Trust
//
// What comes over Redis is never believed alone. An event from the bus only
// makes Wait Fetch the challenge from Twilio, and Wait returns what that
// Fetch reads, so whoever can write to Redis cannot approve a login. They
// can make Waits Fetch (at most 4 times each: a subscription takes 4
// events at most), mark uuids done so that the handler answers Twilio's
// deliveries 200 without calling back (Waits then end on their safety
// poll), or hold claims; keep Redis as private as your database. Events on
// the bus carry only their ids, type and status: no details, hidden
// details or metadata.
//
// # Connections and goroutines
//
// A Bus holds one connection for its subscription, whatever the number of
// Waits, and borrows from rdb's pool for the rest (a batch of reads for
// the Waits that just subscribed, one command per Publish and Claim). It
// runs two goroutines of its own (one reads the subscription, one reads
// kept events and renews claims) and the two go-redis runs for a
// subscription, until Close. A slow reader never blocks the bus: an event
// its channel has no room for is dropped, and one is all a Wait needs.
//
// # When Redis is down
//
// Publish and Claim fail, so the webhook handler answers 5xx and Twilio
// retries the delivery later; it never answers 2xx without the callback
// having run. Waits in flight hear nothing and end on their safety poll
// (every 10 s by default), with what Twilio's API says. Once Redis is back
// the subscription resumes by itself, and the Waits subscribed meanwhile
// get the events kept since.
package redisevents
