// Command enroll is a placeholder while TOTP enrollment is written.
package main

func main() {}
