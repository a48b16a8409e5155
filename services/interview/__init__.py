"""`gameday interview`: a timed mock round — design, a tour of the live stack, a blind incident, its
explanation and mitigation, a product-impact question — ending with a score sheet in the debrief."""
