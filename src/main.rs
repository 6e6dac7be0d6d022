fn main() {
    println!("tour: coming");
}
